// Command genschema writes schema.json, the compact Message schema of package
// webhookapi, from the Chat API discovery document shipped in the
// google.golang.org/api module that go.mod requires. Run it with go generate
// in internal/webhookapi.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gchatkit/gchat/internal/webhookapi/internal/discovery"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("genschema", flag.ContinueOnError)
	in := fs.String("discovery", "", "discovery document (default: chat/v1/chat-api.json in the google.golang.org/api module)")
	out := fs.String("o", "schema.json", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		dir, err := discovery.ModuleDir("google.golang.org/api")
		if err != nil {
			return err
		}
		*in = filepath.Join(dir, "chat", "v1", "chat-api.json")
	}
	doc, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	data, err := discovery.Compact(doc, "Message")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}
