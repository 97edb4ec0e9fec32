package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadOfflineExamples: every example loads offline as shipped, with no
// environment and without reading a secret file (sample files are read).
func TestLoadOfflineExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var read []string
			readFile := func(path string) ([]byte, error) {
				read = append(read, path)
				return os.ReadFile(path)
			}
			cfg, err := LoadOffline(data, name, readFile)
			if err != nil {
				t.Fatalf("LoadOffline: %v", err)
			}
			for _, path := range read {
				if !strings.Contains(path, "samples") {
					t.Errorf("read %s: offline must read no secret file", path)
				}
			}
			if got := cfg.ExposedSecretFiles(os.Stat); len(got) != 0 {
				t.Errorf("secret files recorded offline: %v", got)
			}
			// Without the environment, Load fails on the same file: the
			// examples do use ${NAME} or secret files.
			if _, err := Load(data, name, func(string) string { return "" }, func(string) ([]byte, error) { return nil, os.ErrNotExist }); err == nil {
				t.Errorf("Load without the environment passed: the example reads no secret, so it shows nothing about offline")
			}
		})
	}
}

// TestLoadOfflineProblems: offline, everything but the secrets is still
// checked, and the placeholders keep the checks between secrets honest.
func TestLoadOfflineProblems(t *testing.T) {
	const hook = "    webhook_url: ${HOOK}\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "spaces:\n  a:\n" + hook + "    pase: 1s\n", `spaces.a: unknown key "pase"`},
		{"malformed reference", "spaces:\n  a:\n    webhook_url: ${HOOK\n", "malformed ${…}"},
		{"bad type", "spaces:\n  a:\n" + hook + "    pace: fast\n", "spaces.a.pace"},
		{"operator reference", "operator: nope\nspaces:\n  a:\n" + hook, `operator: "nope" is not a configured space`},
		{"route reference", "spaces:\n  a:\n" + hook + "routes:\n  - name: r\n    source: alertmanager\n    spaces: [b]\n", "routes[0].spaces"},
		{"log level", "log: {level: verbose}\nspaces:\n  a:\n" + hook, `log.level: "verbose" is not one of debug, info, warn, error`},
		{"open listener", "listen: :8686\nspaces:\n  a:\n" + hook, "without ingest credentials"},
		{"host not allowed", "spaces:\n  a:\n    webhook_url: http://example.com/v1/spaces/S/messages?key=k&token=${T}\n", `host "example.com" is neither`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadOffline([]byte(tc.yaml), "relay.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a problem saying %q", err, tc.want)
			}
		})
	}
	// Two spaces whose tokens come from two variables, or two files: their
	// placeholders differ, so no "same token" problem is made up.
	ok := "admin_token_file: secrets/admin\nspaces:\n" +
		"  a:\n" + hook + "    ingest_token: ${A_TOKEN}\n" +
		"  b:\n    webhook_url_file: secrets/b-hook\n    ingest_token_file: secrets/b-token\n" +
		"  c:\n    webhook_url_file: secrets/c-hook\n    ingest_token_file: secrets/c-token\n"
	if _, err := LoadOffline([]byte(ok), "relay.yaml", nil); err != nil {
		t.Errorf("LoadOffline: %v", err)
	}
}
