package alertmanager

import _ "embed" // Sample

// Sample is a real notification, captured from Alertmanager 0.25 (two
// DiskFull alerts firing; testdata/README.md): what `gchat config check`
// renders an Alertmanager route with when the route names no sample_file.
//
//go:embed testdata/diskfull-firing.json
var Sample []byte
