// Package ui holds the emulator's web page: hand-written HTML, CSS and
// JavaScript, embedded so that `go install` gives the whole product with no
// build step. The page talks to the emulator's JSON API (docs/emulator-api.md)
// through relative URLs only, so it works under any base path.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.js style.css favicon.svg static.html
var files embed.FS

// Files returns the page's files at the root of the FS: index.html (served at
// the base path), app.js and style.css (served under ui/).
func Files() fs.FS { return files }
