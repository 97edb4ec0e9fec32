package relay

import (
	"net/http"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/console"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// routes lists every route of the relay. Ingest speaks Google's dialect and
// checks no Host header (callers post from anywhere, as to Google); the
// admin API checks the Host header and a bearer token; /metrics checks the
// Host header only, since Prometheus scrapes without credentials and the
// exposition holds no secret (labels are relay space names and fixed words).
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()

	mux.HandleFunc("POST /v1/spaces/{space}/messages", s.handleMessageCreate)
	mux.HandleFunc("/v1/spaces/{space}/messages", func(w http.ResponseWriter, r *http.Request) {
		webhookapi.WriteError(w, nil, webhookapi.MethodNotAllowed())
	})

	// Source routes (config routes:): Alertmanager, Grafana, any JSON.
	for _, src := range []config.Source{config.SourceAlertmanager, config.SourceGrafana, config.SourceJSON} {
		mux.HandleFunc("POST /v1/"+src.Path()+"/{route}", s.handleSource(src))
		mux.HandleFunc("/v1/"+src.Path()+"/{route}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeSourceError(w, http.StatusMethodNotAllowed, "only POST is supported on /v1/"+src.Path()+"/{route}")
		})
	}

	// Health and readiness under two names: Kubernetes' (/healthz,
	// /readyz) and Prometheus' and Alertmanager's (/-/healthy, /-/ready),
	// whose /-/reload is the reload.
	mux.HandleFunc("GET /healthz", handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /-/healthy", handleHealth)
	mux.HandleFunc("GET /-/ready", s.handleReady)
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", s.checkHost(s.opts.Metrics))
	}

	admin := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.checkAdmin(h)) }
	admin("GET /api/v1/deliveries", s.handleDeliveryList)
	admin("GET /api/v1/deliveries/{id}", s.handleDeliveryGet)
	admin("GET /api/v1/dead", s.handleDeadList)
	admin("POST /api/v1/dead/{id}/replay", s.handleDeadReplay)
	admin("DELETE /api/v1/dead/{id}", s.handleDeadDelete)
	admin("GET /api/v1/spaces", s.handleSpaceList)
	admin("GET /api/v1/escalations", s.handleEscalationList)
	admin("POST /api/v1/spaces/{space}/resume", s.handleSpaceResume)
	admin("POST /-/reload", s.handleReload)
	admin("/api/", func(w http.ResponseWriter, r *http.Request) {
		webhookapi.WriteError(w, nil, webhookapi.NotFound("no such API route: "+r.Method+" "+r.URL.Path))
	})

	// The console's pages, on the admin API's port and only when the admin
	// API is on; it keeps its own sessions (relay/console).
	if s.cfg.AdminToken != "" {
		mux.Handle("/console/", console.New(console.Config{Token: s.cfg.AdminToken, Spaces: s.cfg.Spaces, Routes: s.cfg.Routes,
			Store: s.store, Wake: s.wake, HostAllowed: s.hostAllowed, Deduplicated: s.deduplicated(),
			BehindTLSProxy: s.opts.ConsoleBehindTLSProxy, Stop: s.opts.Stop, Logger: s.log}))
	}
	return mux
}
