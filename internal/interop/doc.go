// Package interop holds what checks gchat against webhook clients that no
// one here wrote: a corpus of real senders' requests (testdata/senders,
// loaded with LoadCorpus, replayed against the emulator in this package's
// tests and reusable against the relay), Google's generated Go client, and
// scripts written the way Google's quickstart samples are, in Node.js,
// Python, Java and curl, posting to the emulator.
package interop
