package render

import (
	"testing"

	"github.com/gchatkit/gchat/card"
)

// BenchmarkCardsAlert renders the library's golden alert card, a typical
// monitoring message.
func BenchmarkCardsAlert(b *testing.B) {
	cards := []card.CardWithID{loadCards(b)["alert"]}
	b.ReportAllocs()
	for b.Loop() {
		_ = Cards(cards)
	}
}

// BenchmarkText renders a typical alert text with marks, a link and a list.
func BenchmarkText(b *testing.B) {
	const s = "*FIRING* `HighLatency` on _checkout-api_: p99 2.4 s > 1 s\n" +
		"* instance: api-1\n* since: 10:42 UTC\n" +
		"<https://grafana.example/d/abc?var=x|Dashboard> · runbook https://runbook.example/latency"
	b.ReportAllocs()
	for b.Loop() {
		_ = Text(s)
	}
}
