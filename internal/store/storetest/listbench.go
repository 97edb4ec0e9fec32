package storetest

import (
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// ListMillionRows is the size of the store BenchListMillion reads.
const ListMillionRows = 1_000_000

// The rows of the benchmark, as SQL expressions of the row number x that
// both backends' fills use: ten relay spaces (space-0…9, lanes LANE0…9),
// three routes and none for a quarter, a thousand thread groups (g0…g999),
// 1% dead, 1% dropped and the rest done; the message is a text of about
// 250 bytes naming one of 5,000 hosts, and one row in 10,000 says
// "needle".

// ListMillionMessageSQL is the message JSON of row x; pad is an SQL
// expression of 200 zeros.
func ListMillionMessageSQL(x, pad string) string {
	return `'{"text":"Disk usage on host-' || (` + x + ` % 5000) || ' is at ' || (` + x + ` % 100) || '%' ||
		CASE WHEN ` + x + ` % 10000 = 0 THEN ' needle' ELSE '' END || ' ' || ` + pad + ` || '"}'`
}

// ListMillionStateSQL is the state of row x.
func ListMillionStateSQL(x string) string {
	return `CASE ` + x + ` % 100 WHEN 0 THEN 'dead' WHEN 1 THEN 'dropped' ELSE 'done' END`
}

// ListMillionRouteSQL is the route of row x.
func ListMillionRouteSQL(x string) string {
	return `CASE ` + x + ` % 4 WHEN 0 THEN '' ELSE 'route-' || (` + x + ` % 4) END`
}

// BenchListMillion runs the console's list queries against a store filled
// with ListMillionRows rows as described above: one page of 50, newest
// first, per operation.
func BenchListMillion(b *testing.B, list func(store.Filter) ([]store.Delivery, error)) {
	first, err := list(store.Filter{Newest: true, Limit: 50})
	if err != nil || len(first) != 50 {
		b.Fatalf("first page: %d rows, %v", len(first), err)
	}
	for _, bc := range []struct {
		name string
		f    store.Filter
		min  int // rows the page must hold
	}{
		{"first page", store.Filter{}, 50},
		{"next page", store.Filter{Before: first[49].ID}, 50},
		{"space", store.Filter{Space: "space-3"}, 50},
		{"state=dead", store.Filter{States: []store.State{store.StateDead}}, 50},
		{"space+state=dead", store.Filter{Space: "space-0", States: []store.State{store.StateDead}}, 50},
		{"route", store.Filter{Route: "route-2"}, 50},
		{"thread", store.Filter{Group: "g42"}, 50},
		{"text 1 in 5000", store.Filter{Text: "host-42 "}, 50},
		{"text 1 in 10000", store.Filter{Text: "needle"}, 50},
		{"text absent", store.Filter{Text: "no such text"}, 0},
	} {
		f := bc.f
		f.Newest, f.Limit = true, 50
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				ds, err := list(f)
				if err != nil {
					b.Fatal(err)
				}
				if len(ds) < bc.min {
					b.Fatalf("%d rows, want at least %d", len(ds), bc.min)
				}
			}
		})
	}
}
