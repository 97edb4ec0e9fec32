package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseInterleaved: flags are taken before, between and after the
// arguments; "--" ends them, unless it is a flag's value.
func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		thread     string
		dry        bool
		positional []string
	}{
		{[]string{"hello", "--thread", "t"}, "t", false, []string{"hello"}},
		{[]string{"--thread", "t", "hello", "world"}, "t", false, []string{"hello", "world"}},
		{[]string{"hello", "--dry-run", "world", "-thread=t"}, "t", true, []string{"hello", "world"}},
		{[]string{"hello", "--", "--thread", "t"}, "", false, []string{"hello", "--thread", "t"}},
		{[]string{"--", "-5 degrees"}, "", false, []string{"-5 degrees"}},
		{[]string{"--thread", "--", "hello", "--dry-run"}, "--", true, []string{"hello"}},
		{[]string{"--dry-run", "--", "--dry-run"}, "", true, []string{"--dry-run"}},
		{[]string{"-", "--thread", "t"}, "t", false, []string{"-"}},
		{nil, "", false, []string{}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			thread := fs.String("thread", "", "")
			dry := fs.Bool("dry-run", false, "")
			if err := parseInterleaved(fs, tc.args); err != nil {
				t.Fatal(err)
			}
			if *thread != tc.thread || *dry != tc.dry {
				t.Errorf("thread %q, dry-run %v; want %q, %v", *thread, *dry, tc.thread, tc.dry)
			}
			if diff := cmp.Diff(tc.positional, append([]string{}, fs.Args()...)); diff != "" {
				t.Errorf("arguments (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSendFlagsAfterText: the flags after the text are flags, not text.
func TestSendFlagsAfterText(t *testing.T) {
	srv := newChat(t)
	r := runCLI(t, t.Context(), nil, "", "send", "--webhook", srv.hook(), "hello", "--thread", "t")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := srv.seen()
	if len(got) != 1 || got[0].body["text"] != "hello" {
		t.Fatalf("sent %v, want the text hello", got)
	}
	if th, _ := got[0].body["thread"].(map[string]any); th["threadKey"] != "t" {
		t.Errorf("thread %v, want threadKey t", got[0].body["thread"])
	}
	r = runCLI(t, t.Context(), nil, "", "send", "--webhook", srv.hook(), "hello", "--colour", "red")
	if r.code != exitUsage || !strings.Contains(r.stderr, "flag provided but not defined: -colour") {
		t.Errorf("unknown flag after the text: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
	if n := len(srv.seen()); n != 1 {
		t.Errorf("%d requests, want 1: a bad flag after the text must send nothing", n)
	}
}

// TestFlagsAfterArgumentsEveryCommand: every command takes a flag after
// its arguments: --help there prints its help instead of being an argument.
func TestFlagsAfterArgumentsEveryCommand(t *testing.T) {
	for _, c := range commands() {
		args := []string{c.name}
		if vs, _ := verbs(c.name); len(vs) > 0 {
			args = append(args, vs[0])
		}
		args = append(args, "ARGUMENT", "--help")
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCLI(t, t.Context(), nil, "", args...)
			if r.code != exitOK || !strings.HasPrefix(r.stdout, "Usage: gchat "+c.name) {
				t.Errorf("exit %d, stdout %.80q, stderr %q; want the help", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestConfigCheckSendAfterFile: gchat config check FILE --send ROUTE.
func TestConfigCheckSendAfterFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "relay.yaml")
	yaml := "spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=" + canary + "\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, t.Context(), nil, "", "config", "check", file, "--send", "nope")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--send nope: no such route") {
		t.Errorf("exit %d, stderr %q; want --send read as a flag", r.code, r.stderr)
	}
}

// TestConfigUnknownVerb: gchat config VERB names the verbs it has.
func TestConfigUnknownVerb(t *testing.T) {
	r := runCLI(t, t.Context(), nil, "", "config", "chek", "gchat.yaml")
	if r.code != exitUsage || !strings.Contains(r.stderr, `config: unknown verb "chek": want check or reference`) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestVersionFlag(t *testing.T) {
	want := runCLI(t, t.Context(), nil, "", "version")
	for _, arg := range []string{"--version", "-version"} {
		r := runCLI(t, t.Context(), nil, "", arg)
		if r.code != exitOK || r.stdout != want.stdout || !strings.HasPrefix(r.stdout, "gchat ") {
			t.Errorf("%s: exit %d, %q; want %q as gchat version prints", arg, r.code, r.stdout, want.stdout)
		}
	}
}

func TestVersionOf(t *testing.T) {
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.25.0", Main: debug.Module{Version: version}}
		for i := 0; i < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{info("v1.2.0"), "v1.2.0 go1.25.0"},
		{info("v1.2.0", "vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-12-01T10:00:00Z"), "v1.2.0 (rev 0123456789ab, 2026-12-01T10:00:00Z) go1.25.0"},
		{info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-12-01T10:00:00Z", "vcs.modified", "true"), "(devel) (rev 0123456789ab+dirty, 2026-12-01T10:00:00Z) go1.25.0"},
		{info(""), "(devel) go1.25.0"},
		{nil, "(unknown)"},
	} {
		if got := versionOf(tc.info); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestCompletion: the scripts are valid shell (bash -n, zsh -n when zsh is
// installed) and offer every command and each command's flags.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			r := runCLI(t, t.Context(), nil, "", "completion", shell)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			for _, c := range commands() {
				if !strings.Contains(r.stdout, c.name) {
					t.Errorf("the %s script does not offer %s", shell, c.name)
				}
			}
			for _, w := range []string{"--thread", "--webhook-file", "--offline", "--state", "--admin-token-file", "reference", "replay"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("the %s script does not offer %s", shell, w)
				}
			}
			path, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("no %s to check the syntax with", shell)
			}
			file := filepath.Join(t.TempDir(), "gchat."+shell)
			if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", file).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
	if shell := runCLI(t, t.Context(), nil, "", "completion", "fish"); shell.code != exitUsage {
		t.Errorf("completion fish: exit %d, want %d", shell.code, exitUsage)
	}
}

// TestCompletionInBash: the bash script completes in bash itself.
func TestCompletionInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := runCLI(t, t.Context(), nil, "", "completion", "bash").stdout
	file := filepath.Join(t.TempDir(), "gchat.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		want string
	}{
		{"gchat sp", "spaces"},
		{"gchat send --thr", "--thread"},
		{"gchat dead re", "replay"},
		{"gchat config check --off", "--offline"},
	} {
		words := strings.Fields(tc.line)
		cmd := exec.Command(bash, "-c", `source "$0"; COMP_WORDS=(`+tc.line+`); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _gchat; printf '%s\n' "${COMPREPLY[@]}"`, file)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.line, err, out)
		}
		if got := strings.Fields(string(out)); !cmp.Equal(got, []string{tc.want}) {
			t.Errorf("%q (%d words) completes to %q, want %q", tc.line, len(words), got, tc.want)
		}
	}
}

// TestExamplesCheckOffline: every example passes `gchat config check
// --offline` as shipped, with an empty environment and no secret files.
func TestExamplesCheckOffline(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := runCLI(t, t.Context(), nil, "", "config", "check", "--offline", file)
			if r.code != exitOK || !strings.Contains(r.stdout, ": OK (offline") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "not tried") && strings.Contains(file, "events") {
				t.Errorf("a route was not rendered offline:\n%s", r.stdout)
			}
			r = runCLI(t, t.Context(), nil, "", "config", "check", file)
			if r.code != exitUsage {
				t.Errorf("without --offline and without the environment: exit %d, want %d", r.code, exitUsage)
			}
		})
	}
	r := runCLI(t, t.Context(), nil, "", "config", "check", "--offline", "--send", "prometheus", filepath.Join("..", "..", "examples", "alertmanager.yaml"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "--send needs the secrets") {
		t.Errorf("--offline --send: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestConfigReference: gchat config reference prints docs/config.md.
func TestConfigReference(t *testing.T) {
	r := runCLI(t, t.Context(), nil, "", "config", "reference")
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	if r.code != exitOK || r.stdout != string(want) {
		t.Errorf("exit %d; the output differs from docs/config.md (%d and %d bytes)", r.code, len(r.stdout), len(want))
	}
}

// FuzzParseInterleaved: whatever the arguments, a flag is never left among
// the arguments (the text gchat send would post) unless "--" came before
// it, and the arguments are the given ones, in order.
func FuzzParseInterleaved(f *testing.F) {
	for _, seed := range []string{"hello\x00--thread\x00t", "--\x00-x", "--thread\x00--\x00a", "-\x00--dry-run=false\x00b", "a\x00-thread=x\x00--\x00--\x00c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("thread", "", "")
		fs.Bool("dry-run", false, "")
		if err := parseInterleaved(fs, args); err != nil {
			return
		}
		rest, i := fs.Args(), 0
		for _, a := range args {
			if i < len(rest) && a == rest[i] {
				i++
			}
		}
		if i != len(rest) {
			t.Fatalf("arguments %q are not in order among %q", rest, args)
		}
		if slices.Contains(args, "--") {
			return
		}
		for _, a := range rest {
			if strings.HasPrefix(a, "-") && a != "-" {
				t.Fatalf("flag %q left among the arguments %q of %q", a, rest, args)
			}
		}
	})
}
