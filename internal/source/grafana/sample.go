package grafana

import _ "embed" // Sample

// Sample is a firing notification written from Grafana's documentation
// (testdata/README.md): what `gchat config check` renders a Grafana route
// with when the route names no sample_file.
//
//go:embed testdata/firing.json
var Sample []byte
