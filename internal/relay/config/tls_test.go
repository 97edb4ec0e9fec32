package config

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestTLSProblems(t *testing.T) {
	const space = "spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t\n    ingest_token: 0123456789abcdef0123\n"
	files := map[string]string{"/etc/gchat/junk.pem": "not PEM"}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"cert without key", "tls_cert_file: relay.crt\n" + space, "gchat.yaml:1:1: tls_cert_file: set tls_key_file too"},
		{"key without cert", "tls_key_file: relay.key\n" + space, "gchat.yaml:1:1: tls_key_file: set tls_cert_file too"},
		{"missing files", "tls_cert_file: relay.crt\ntls_key_file: relay.key\n" + space, "tls_cert_file: cannot read /etc/gchat/relay.crt"},
		{"not a certificate", "tls_cert_file: junk.pem\ntls_key_file: junk.pem\n" + space, "tls_cert_file: not a certificate matching tls_key_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.yaml), "/etc/gchat/gchat.yaml", func(string) string { return "" }, readFile)
			var ps *Problems
			if !errors.As(err, &ps) || !strings.Contains(strings.ReplaceAll(err.Error(), "/etc/gchat/gchat.yaml", "gchat.yaml"), tc.want) {
				t.Errorf("got %v, want a problem %q", err, tc.want)
			}
		})
	}
}

func TestTiming(t *testing.T) {
	const space = "spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t\n    ingest_token: 0123456789abcdef0123\n"
	none := func(string) string { return "" }
	noFile := func(name string) ([]byte, error) { return nil, fs.ErrNotExist }
	c, err := Load([]byte("timing:\n  request_timeout: 2s\n  lease: 5s\n  backoff_base: 100ms\n  backoff_cap: 3s\n"+space), "gchat.yaml", none, noFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Timing{RequestTimeout: 2e9, Lease: 5e9, BackoffBase: 1e8, BackoffCap: 3e9}); c.Timing != want {
		t.Errorf("Timing = %+v, want %+v", c.Timing, want)
	}
	for yaml, want := range map[string]string{
		"timing:\n  request_timeout: 10s\n  lease: 10s\n" + space:  "gchat.yaml:3:10: timing.lease: 10s must be longer than the request timeout (10s)",
		"timing:\n  backoff_base: 1m\n  backoff_cap: 2s\n" + space: "gchat.yaml:3:16: timing.backoff_cap: 2s is below backoff_base (1m0s)",
		"timing:\n  lease: soon\n" + space:                         `gchat.yaml:2:10: timing.lease: "soon" is not a duration (want e.g. 1m)`,
	} {
		_, err := Load([]byte(yaml), "gchat.yaml", none, noFile)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}
