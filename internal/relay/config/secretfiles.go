package config

import (
	"fmt"
	"io/fs"
)

// SecretFile is a file a *_file setting named for a secret (a token, a
// password, a webhook URL, a TLS key) that Load read.
type SecretFile struct {
	// Field is the setting's dotted path, e.g. "spaces.alerts.webhook_url_file".
	Field string
	// Name is the file as problems show it: its path, or the setting as
	// written when the environment supplied part of the path.
	Name string
	// Path is the path read; callers may stat it but never print it (a
	// secret put in the wrong key would be a path).
	Path         string
	Line, Column int
}

// SecretFiles returns the secret files Load read, in file order.
func (c *Config) SecretFiles() []SecretFile { return c.secrets }

// ExposedSecretFiles returns a problem for each secret file that every user
// of the machine may read or write, by the modes stat reports (os.Stat). A
// group bit is fine (a key shared with a service group, as 0640).
// They are warnings, not errors: a secret mounted by an orchestrator may be
// readable by design (Kubernetes mounts secrets 0644 by default), but on a
// shared host anyone could read the secret.
func (c *Config) ExposedSecretFiles(stat func(string) (fs.FileInfo, error)) []Problem {
	var ps []Problem
	for _, s := range c.secrets {
		fi, err := stat(s.Path)
		if err != nil {
			continue // read a moment ago; a file gone since is Load's to report next time
		}
		if perm := fi.Mode().Perm(); perm&0o007 != 0 {
			ps = append(ps, Problem{
				File: c.file, Line: s.Line, Column: s.Column, Field: s.Field,
				Message: fmt.Sprintf("%s is open to every user (mode %#o): chmod o= it, or 600", s.Name, perm),
			})
		}
	}
	return ps
}
