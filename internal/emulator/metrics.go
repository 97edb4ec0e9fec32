package emulator

import (
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the emulator's Prometheus metrics, on a registry of its own:
// two emulators in one process (tests) do not share counters.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration prometheus.Histogram
	handler  http.Handler
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_emulator_webhook_requests_total",
			Help: "Webhook requests by answered HTTP status (0: no answer) and injected fault.",
		}, []string{"status", "fault"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gchat_emulator_webhook_request_duration_seconds",
			Help:    "Time from a webhook request's arrival to its answer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, stateCollector{
		s:           s,
		spaces:      prometheus.NewDesc("gchat_emulator_spaces", "Spaces.", nil, nil),
		messages:    prometheus.NewDesc("gchat_emulator_messages", "Messages retained, by space id.", []string{"space"}, nil),
		subscribers: prometheus.NewDesc("gchat_emulator_event_subscribers", "Live pages and other event-stream subscribers.", nil, nil),
	})
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// observe counts a recorded request. It takes no lock of its own beyond
// the counters'.
func (m *metrics) observe(rec RequestRecord) {
	m.requests.WithLabelValues(strconv.Itoa(rec.Status), rec.Fault).Inc()
	m.duration.Observe(rec.Duration.Seconds())
}

// stateCollector reads the emulator's state at scrape time.
type stateCollector struct {
	s                             *Server
	spaces, messages, subscribers *prometheus.Desc
}

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.spaces
	ch <- c.messages
	ch <- c.subscribers
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	type count struct {
		id string
		n  int
	}
	c.s.mu.RLock()
	counts := make([]count, 0, len(c.s.spaces))
	for id, sp := range c.s.spaces {
		counts = append(counts, count{id, len(sp.msgs)})
	}
	c.s.mu.RUnlock()
	ch <- prometheus.MustNewConstMetric(c.spaces, prometheus.GaugeValue, float64(len(counts)))
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(n.n), n.id)
	}
	ch <- prometheus.MustNewConstMetric(c.subscribers, prometheus.GaugeValue, float64(c.s.events.n.Load()))
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.handler.ServeHTTP(w, r)
}

// Info is what /api/v1/info reports: enough to tell which emulator answers
// and how it is set up. It holds no credential.
type Info struct {
	Version     string      `json:"version"`
	GoVersion   string      `json:"goVersion"`
	BaseURL     string      `json:"baseUrl"`
	MaxMessages int         `json:"maxMessages"`
	MaxRequests int         `json:"maxRequests"`
	Spaces      []InfoSpace `json:"spaces"`
	Settings    Settings    `json:"settings"`
	// Faults says whether any fault is injected, globally or in a space.
	Faults bool `json:"faults"`
	// Requests counts webhook requests answered (or not) since start or
	// the last reset.
	Requests int `json:"requests"`
}

// InfoSpace is a space in Info.
type InfoSpace struct {
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	Threading    string `json:"threading"`
	Webhooks     int    `json:"webhooks"`
	MessageCount int    `json:"messageCount"`
}

// Info reports the emulator's version, spaces and settings.
func (s *Server) Info() Info {
	in := Info{
		Version:     s.version,
		BaseURL:     s.baseURL,
		MaxMessages: s.maxMessages,
		MaxRequests: s.maxRequests,
		Spaces:      []InfoSpace{},
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		in.GoVersion = bi.GoVersion
		if in.Version == "" {
			in.Version = bi.Main.Version
		}
	}
	for _, sp := range s.Spaces() {
		in.Spaces = append(in.Spaces, InfoSpace{sp.ID, sp.DisplayName, sp.Threading, len(sp.Webhooks), sp.MessageCount})
	}
	s.mu.RLock()
	in.Settings = *s.settings
	in.Faults = !s.faults.Global.zero()
	for _, f := range s.faults.Spaces {
		in.Faults = in.Faults || !f.zero()
	}
	for _, n := range s.stats {
		in.Requests += n
	}
	s.mu.RUnlock()
	return in
}
