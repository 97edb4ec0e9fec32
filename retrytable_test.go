package gchat

import (
	"encoding/json"
	"os"
	"testing"
)

// retryRow is one row of testdata/retry-table.json, the one table of status
// codes and what a sender does with them. The relay's tests read the same file.
type retryRow struct {
	Status   int    `json:"status"`
	Decision string `json:"decision"`
}

func loadRetryTable(tb testing.TB) []retryRow {
	tb.Helper()
	data, err := os.ReadFile("testdata/retry-table.json")
	if err != nil {
		tb.Fatal(err)
	}
	var rows []retryRow
	if err := json.Unmarshal(data, &rows); err != nil {
		tb.Fatalf("testdata/retry-table.json: %v", err)
	}
	return rows
}

func TestClassifyStatus(t *testing.T) {
	names := map[decision]string{done: "done", retry: "retry", final: "final"}
	for _, row := range loadRetryTable(t) {
		if got := names[classifyStatus(row.Status)]; got != row.Decision {
			t.Errorf("classifyStatus(%d) = %s, want %s", row.Status, got, row.Decision)
		}
	}
}
