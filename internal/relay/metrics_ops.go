package relay

import (
	"context"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
)

// The metrics an operator watches the relay itself with (deploy/prometheus
// alerts on them): which build runs, what ingest answers, and how often
// lane leases change hands.
type opsMetrics struct {
	ingest *prometheus.CounterVec
	leases *prometheus.CounterVec
	dedup  *prometheus.CounterVec

	mu     sync.Mutex
	tokens map[string]int64 // lane → fencing token of the lease last granted to this relay
}

func newOpsMetrics(reg *prometheus.Registry) *opsMetrics {
	o := &opsMetrics{
		ingest: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_ingest_requests_total",
			Help: "Ingest requests answered, by kind (message, alertmanager, grafana, events), the relay space or route they name (\"\" when none is configured by that name) and HTTP status code.",
		}, []string{"kind", "name", "code"}),
		leases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_leases_acquired_total",
			Help: "Lane leases this relay took: at start, after another replica held the lane, or after a release; not renewals. Summed over replicas, a steady rise is lease churn.",
		}, []string{"space"}),
		dedup: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_deduplicated_total",
			Help: "Posts of source routes that were not queued, by route and reason: copy (the same state within dedup_window: a sender's retry, the other Alertmanager of a pair), repeat (an unchanged state within suppress_repeats of its last post), stale_echo (a firing whose alerts were already seen resolved), redelivery (a verified sender's delivery id seen before).",
		}, []string{"route", "reason"}),
		tokens: make(map[string]int64),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gchat_build_info",
		Help:        "Always 1; the labels name the running build: module version, VCS revision and Go release.",
		ConstLabels: buildLabels(),
	})
	build.Set(1)
	reg.MustRegister(o.ingest, o.leases, o.dedup, build)
	return o
}

// buildLabels reads the build's version, revision and Go release; "" for
// what the build does not record (a build with -buildvcs=false has no
// revision).
func buildLabels() prometheus.Labels {
	l := prometheus.Labels{"version": "", "revision": "", "goversion": ""}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return l
	}
	l["version"], l["goversion"] = info.Main.Version, info.GoVersion
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			l["revision"] = s.Value
		}
	}
	return l
}

// setConfig starts the counters of cfg's spaces and routes at zero, so that
// rates exist from the first scrape.
func (o *opsMetrics) setConfig(cfg *config.Config) {
	for _, s := range cfg.Spaces {
		o.ingest.WithLabelValues(ingestMessage, s.Name, "200")
		o.leases.WithLabelValues(s.Name)
	}
	for _, r := range cfg.Routes {
		o.ingest.WithLabelValues(r.Source.Path(), r.Name, "200")
		for _, reason := range dedupReasons {
			o.dedup.WithLabelValues(r.Name, reason)
		}
	}
}

// Reasons of gchat_relay_deduplicated_total.
const (
	DedupCopy       = "copy"
	DedupRepeat     = "repeat"
	DedupStaleEcho  = "stale_echo"
	DedupRedelivery = "redelivery"
)

var dedupReasons = []string{DedupCopy, DedupRepeat, DedupStaleEcho, DedupRedelivery}

// Deduplicated counts a post of a source route that was not queued, in
// gchat_relay_deduplicated_total. A nil *Metrics counts nothing.
func (m *Metrics) Deduplicated(route, reason string) {
	if m == nil {
		return
	}
	m.ops.dedup.WithLabelValues(route, reason).Inc()
}

// ingestMessage is the kind of a message posted in Google's dialect.
const ingestMessage = "message"

// InstrumentIngest returns h counting the ingest requests it answers in
// gchat_relay_ingest_requests_total. h routes with an http.ServeMux, as
// Server does: the pattern it matched tells an ingest route from the rest.
func (m *Metrics) InstrumentIngest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		kind, name, ok := m.ingestRoute(r)
		if ok {
			m.ops.ingest.WithLabelValues(kind, name, strconv.Itoa(sw.code)).Inc()
		}
	})
}

// ingestRoute names the ingest route r matched, after the mux has served
// it: the kind and the configured space or route it names, "" if none.
func (m *Metrics) ingestRoute(r *http.Request) (kind, name string, ok bool) {
	path, found := strings.CutPrefix(r.Pattern, "POST /v1/")
	if !found {
		return "", "", false
	}
	cfg := m.cfg.Load()
	if path == "spaces/{space}/messages" {
		name = r.PathValue("space")
		if cfg.Space(name) == nil {
			name = ""
		}
		return ingestMessage, name, true
	}
	kind, _, _ = strings.Cut(path, "/")
	name = r.PathValue("route")
	for _, rt := range cfg.Routes {
		if rt.Name == name && rt.Source.Path() == kind {
			return kind, name, true
		}
	}
	return kind, "", true
}

// statusWriter records the status code a handler answers with.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// leaseObserver is told of every lease the store grants this relay; *Metrics
// is one.
type leaseObserver interface {
	LeaseGranted(l store.Lease)
}

// LeaseGranted counts a lease this relay did not hold already: its fencing
// token differs from the one last granted to it for the lane (a renewal
// keeps the token). The lane is counted under the first configured relay
// space delivering to it, never under its Google space id.
func (m *Metrics) LeaseGranted(l store.Lease) {
	m.ops.mu.Lock()
	last, held := m.ops.tokens[l.Lane]
	m.ops.tokens[l.Lane] = l.Token
	m.ops.mu.Unlock()
	if held && last == l.Token {
		return
	}
	space := ""
	for _, s := range m.cfg.Load().Spaces {
		if s.Webhook.Space() == l.Lane {
			space = s.Name
			break
		}
	}
	m.ops.leases.WithLabelValues(space).Inc()
}

// AcquireLease tells the observer, when it is a leaseObserver, of each
// lease granted.
func (s *observedStore) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	l, err := s.Store.AcquireLease(ctx, req)
	if o, ok := s.o.(leaseObserver); ok && err == nil {
		o.LeaseGranted(l)
	}
	return l, err
}
