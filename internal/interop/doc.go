// Package interop holds tests only: real webhook clients that no one here
// wrote (Google's generated Go client, and scripts written the way Google's
// quickstart samples are, in Node.js, Python, Java and curl) posting to the
// emulator.
package interop
