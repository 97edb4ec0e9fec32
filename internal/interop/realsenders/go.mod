module github.com/gchatkit/gchat/internal/interop/realsenders

go 1.25.0

require (
	github.com/containrrr/shoutrrr v0.8.0
	github.com/gchatkit/gchat v0.0.0-00010101000000-000000000000
)

require (
	github.com/fatih/color v1.15.0 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/gchatkit/gchat => ../../..
