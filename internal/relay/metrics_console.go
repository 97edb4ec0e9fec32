package relay

import "github.com/prometheus/client_golang/prometheus"

// DeduplicatedCounts returns what gchat_relay_deduplicated_total counted in
// this process, by route and reason, for the console's Routes page. A nil
// *Metrics counts nothing: nil.
func (m *Metrics) DeduplicatedCounts() map[string]map[string]int {
	if m == nil {
		return nil
	}
	// A registry of the one counter: gathering the relay's own would
	// read the store for its gauges.
	reg := prometheus.NewRegistry()
	if err := reg.Register(m.ops.dedup); err != nil {
		return nil
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil
	}
	out := map[string]map[string]int{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			var route, reason string
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "route":
					route = l.GetValue()
				case "reason":
					reason = l.GetValue()
				}
			}
			if out[route] == nil {
				out[route] = map[string]int{}
			}
			out[route][reason] = int(mt.GetCounter().GetValue())
		}
	}
	return out
}

// deduplicated is the console's source of duplicate counts: the relay's
// metrics, nil without them.
func (s *Server) deduplicated() func() map[string]map[string]int {
	if s.opts.Metrics == nil {
		return nil
	}
	return s.opts.Metrics.DeduplicatedCounts
}
