package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gchatkit/gchat/internal/store"
)

// testListSearch checks the filters of the relay's console: route, text in
// the message, and the newest-first listing with its Before cursor.
func testListSearch(t *testing.T, h *harness) {
	ctx := t.Context()
	var all []string
	for i := range 6 {
		req := store.EnqueueRequest{Space: "ops", Lane: "L", Route: fmt.Sprint("route", i%2),
			Deliveries: []store.NewDelivery{{Group: fmt.Sprint("g", i), Message: msg(fmt.Sprint("disk ", i, " Full"))}}}
		res, err := h.s.Enqueue(ctx, req)
		if err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		all = append(all, res.Deliveries[0].ID)
	}
	newest := slices.Clone(all)
	slices.Reverse(newest)
	tests := []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"route", store.Filter{Route: "route1"}, []string{all[1], all[3], all[5]}},
		{"text", store.Filter{Text: "disk 4"}, []string{all[4]}},
		{"text is case-sensitive", store.Filter{Text: "full"}, nil},
		{"text matches bytes of the JSON", store.Filter{Text: `"text":"disk 2`}, []string{all[2]}},
		{"text with LIKE wildcards is literal", store.Filter{Text: "disk%"}, nil},
		{"newest first", store.Filter{Newest: true}, newest},
		{"newest page 1", store.Filter{Newest: true, Limit: 4}, newest[:4]},
		{"newest page 2", store.Filter{Newest: true, Limit: 4, Before: newest[3]}, newest[4:]},
		{"newest of a route", store.Filter{Newest: true, Route: "route0", Limit: 2}, []string{all[4], all[2]}},
		{"before, ascending", store.Filter{Before: all[2]}, all[:2]},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, h.list(tt.f)); diff != "" {
			t.Errorf("List %s (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := h.s.List(ctx, store.Filter{Before: "nope"}); err == nil {
		t.Errorf("List with a bad Before cursor: no error")
	}
}
