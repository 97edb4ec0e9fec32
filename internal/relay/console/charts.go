package console

import (
	"context"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// The Spaces page's chart: the last hour of each relay space's sends in
// chartBuckets bars, aligned to whole buckets so that the chart (and the
// live page's digest) changes only when the attempts do or a bucket ends.
const (
	chartBuckets = 30
	chartBucket  = 2 * time.Minute
	chartWidth   = chartBuckets * 6 // px: a bar of 5 and a gap of 1
	chartHeight  = 32
)

// bar is one bucket of a space's chart.
type bar struct {
	Start     time.Time
	Sent      int
	OK        int
	Throttled int
}

// activity is one relay space's last hour: its bars, oldest first, and
// their sums.
type activity struct {
	Bars      []bar
	Sent      int
	Throttled int
	Chart     template.HTML
}

// activities reads the last hour's sends of every relay space from the
// store's attempt history.
func (c *Console) activities(ctx context.Context, now time.Time) (map[string]*activity, error) {
	since := now.Truncate(chartBucket).Add(-(chartBuckets - 1) * chartBucket)
	rows, err := c.cfg.Store.Activity(ctx, since, chartBucket)
	if err != nil {
		return nil, err
	}
	out := map[string]*activity{}
	for _, sp := range c.cfg.Spaces {
		a := &activity{Bars: make([]bar, chartBuckets)}
		for i := range a.Bars {
			a.Bars[i].Start = since.Add(time.Duration(i) * chartBucket)
		}
		out[sp.Name] = a
	}
	for _, r := range rows {
		a, ok := out[r.Space]
		i := int(r.Start.Sub(since) / chartBucket)
		if !ok || i < 0 || i >= chartBuckets {
			continue
		}
		a.Bars[i] = bar{Start: a.Bars[i].Start, Sent: r.Sent, OK: r.OK, Throttled: r.Throttled}
		a.Sent += r.Sent
		a.Throttled += r.Throttled
	}
	for _, a := range out {
		a.Chart = chartSVG(a.Bars)
	}
	return out, nil
}

// chartSVG draws bars as an inline SVG: a bar per bucket as high as its
// sends (scaled to the busiest bucket), its 429s in red from the bottom,
// and a title per bar for the figures. Only numbers and times go in, so
// nothing in it needs escaping; it carries no script and no style
// attribute (the console.css classes colour it).
func chartSVG(bars []bar) template.HTML {
	top := 1
	for _, b := range bars {
		top = max(top, b.Sent)
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="sends and 429s over the last hour, in %s buckets, the busiest %d">`,
		chartWidth, chartHeight, chartWidth, chartHeight, chartBucket, top)
	fmt.Fprintf(&s, `<line class="base" x1="0" y1="%d" x2="%d" y2="%d"></line>`, chartHeight-1, chartWidth, chartHeight-1)
	for i, b := range bars {
		x := i * 6
		fmt.Fprintf(&s, `<g><title>%s–%s: %d sent, %d accepted, %d × 429</title>`,
			b.Start.UTC().Format("15:04"), b.Start.Add(chartBucket).UTC().Format("15:04Z"), b.Sent, b.OK, b.Throttled)
		if h := height(b.Sent, top); h > 0 {
			fmt.Fprintf(&s, `<rect class="sent" x="%d" y="%d" width="5" height="%d"></rect>`, x, chartHeight-h, h)
		}
		if h := height(b.Throttled, top); h > 0 {
			fmt.Fprintf(&s, `<rect class="throttled" x="%d" y="%d" width="5" height="%d"></rect>`, x, chartHeight-h, h)
		}
		s.WriteString(`</g>`)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// height is n's bar in pixels, at least 1 for any n above zero.
func height(n, top int) int {
	if n <= 0 {
		return 0
	}
	return max(1, n*(chartHeight-2)/top)
}

// routeCounts is what the Routes page shows of a route's duplicates and
// incidents.
type routeCounts struct {
	// Dedup is this replica's count of posts not queued, by reason; nil
	// when the relay counts none (no metrics).
	Dedup map[string]int
	// Alerts reports a route of alerts, whose groups have incidents.
	Alerts    bool
	Incidents store.IncidentCount
}
