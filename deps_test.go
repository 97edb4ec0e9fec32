package gchat

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLibraryDependsOnStandardLibraryOnly holds the README's claim: a program
// that imports gchat (and so card) compiles the standard library and these
// three packages of the module, nothing else.
func TestLibraryDependsOnStandardLibraryOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	want := []string{
		"github.com/gchatkit/gchat",
		"github.com/gchatkit/gchat/card",
		"github.com/gchatkit/gchat/internal/cardhtml",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the library depends on %q, want only the standard library and %q", got, want)
	}
}
