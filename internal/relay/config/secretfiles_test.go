package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExposedSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // the umask may have narrowed it
			t.Fatal(err)
		}
	}
	write("admin", canaryAdmin, 0o644)
	write("hook", canaryFileHook, 0o600)
	write("token", canaryIngest, 0o640)
	write("basic", "SHORTCANARY-password", 0o604)
	src := `
admin_token_file: admin
spaces:
  alerts:
    webhook_url_file: hook
    ingest_token_file: token
routes:
  - name: am
    source: alertmanager
    basic_username: am
    basic_password_file: basic
    spaces: [alerts]
`
	path := filepath.Join(dir, "gchat.yaml")
	c, err := Load([]byte(src), path, testEnv, os.ReadFile)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := len(c.SecretFiles()); got != 4 {
		t.Errorf("SecretFiles: got %d files, want 4: %+v", got, c.SecretFiles())
	}
	ps := c.ExposedSecretFiles(os.Stat)
	var got []string
	for _, p := range ps {
		got = append(got, p.Error())
		assertNoSecret(t, "warning", p.Error())
	}
	want := []string{
		path + ":2:19: admin_token_file: " + filepath.Join(dir, "admin") + " is open to every user (mode 0644): chmod o= it, or 600",
		path + ":11:26: routes[0].basic_password_file: " + filepath.Join(dir, "basic") + " is open to every user (mode 0604): chmod o= it, or 600",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}
