package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestManifests decodes every manifest under deploy/kubernetes.
func TestManifests(t *testing.T) {
	files, err := filepath.Glob("../kubernetes/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d manifest files under deploy/kubernetes, want the SQLite and PostgreSQL ones", len(files))
	}
	kinds := map[string]int{}
	for _, f := range files {
		objs, err := File(f)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, o := range objs {
			kinds[strings.TrimPrefix(strings.TrimPrefix(typeName(o), "*v1."), "*")]++
		}
	}
	for _, k := range []string{"StatefulSet", "Deployment", "Job", "Secret", "ConfigMap", "Service", "PodDisruptionBudget"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the manifests (have %v)", k, kinds)
		}
	}
}

// TestSQLiteOneReplica: SQLite allows one writer.
func TestSQLiteOneReplica(t *testing.T) {
	objs, err := File("../kubernetes/sqlite/gchat-relay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if s, ok := o.(*appsv1.StatefulSet); ok && (s.Spec.Replicas == nil || *s.Spec.Replicas != 1) {
			t.Errorf("StatefulSet %s: replicas %v, want 1", s.Name, s.Spec.Replicas)
		}
	}
}

// TestRefused: what each mistake in a manifest gives. The good manifest is
// the PostgreSQL one, changed once per case.
func TestRefused(t *testing.T) {
	good, err := os.ReadFile("../kubernetes/postgres/gchat-relay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"a misspelt field", "  replicas: 2\n", "  replica: 2\n", `unknown field "replica"`},
		// readOnlyRootFilesystem belongs to a container's securityContext,
		// not the pod's.
		{"a field in the wrong place", "        fsGroup: 65532\n", "        fsGroup: 65532\n        readOnlyRootFilesystem: true\n", `unknown field "readOnlyRootFilesystem"`},
		{"a duplicate key", "  minAvailable: 1\n", "  minAvailable: 1\n  minAvailable: 2\n", "duplicate"},
		{"a wrong type", "            periodSeconds: 5\n", "            periodSeconds: 5s\n", "periodSeconds"},
		{"an unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBugdet", "unexpected kind"},
		{"a selector missing its pods", "      app.kubernetes.io/component: relay\n  strategy:", "      app.kubernetes.io/component: relays\n  strategy:", "does not match the pod template's labels"},
		{"a Secret key missing", "                  key: GCHAT_INGEST_KEY\n", "                  key: GCHAT_INGEST_KEYS\n", `no key "GCHAT_INGEST_KEYS"`},
		{"a ConfigMap missing", "            name: gchat-relay\n        - name: secrets", "            name: gchat-relays\n        - name: secrets", `no ConfigMap "gchat-relays"`},
		{"a probe's port missing", "              path: /readyz\n              port: http\n", "              path: /readyz\n              port: htp\n", `probe's port "htp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(good), tc.old) {
				t.Fatalf("the manifest has no %q to change", tc.old)
			}
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(strings.Replace(string(good), tc.old, tc.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := File(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
