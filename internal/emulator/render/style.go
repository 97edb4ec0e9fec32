package render

import _ "embed"

//go:embed style.css
var stylesheet string

// Stylesheet returns the CSS for the gc- classes of the rendered HTML, for the
// page to include once in a style element or serve as a file.
func Stylesheet() string { return stylesheet }
