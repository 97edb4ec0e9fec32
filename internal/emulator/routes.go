package emulator

import "net/http"

// routes lists every route of the emulator (docs/emulator-api.md). The page
// and the API check the Host header; the API's state-changing routes also
// require Content-Type: application/json. The webhook endpoint does neither:
// Google's own clients call it from anywhere, some without a Content-Type
// (docs/google-chat.md §1.4).
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()

	// Google's dialect.
	mux.HandleFunc("POST /v1/spaces/{space}/messages", s.handleMessageCreate)
	mux.HandleFunc("/v1/spaces/{space}/messages", handleMethodNotAllowed)

	mux.HandleFunc("GET /healthz", handleHealth)
	mux.HandleFunc("GET /readyz", handleHealth)
	mux.HandleFunc("GET /metrics", s.handleMetrics)

	// The page.
	page := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.checkHost(h)) }
	page("GET /{$}", s.handlePage)
	page("GET /favicon.ico", s.handleFavicon)
	page("GET /ui/render.css", s.handleRenderCSS)
	page("GET /ui/{file}", s.handleUIFile)

	// The test API.
	api := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.checkHost(requireJSON(h))) }
	api("GET /api/v1/spaces", s.handleSpaceList)
	api("POST /api/v1/spaces", s.handleSpaceCreate)
	api("GET /api/v1/spaces/{space}", s.handleSpaceGet)
	api("DELETE /api/v1/spaces/{space}", s.handleSpaceDelete)
	api("POST /api/v1/spaces/{space}/webhooks", s.handleWebhookCreate)
	api("DELETE /api/v1/spaces/{space}/webhooks/{webhook}", s.handleWebhookDelete)
	api("GET /api/v1/spaces/{space}/messages", s.handleMessageList)
	api("DELETE /api/v1/spaces/{space}/messages", s.handleSpaceClear)
	api("GET /api/v1/spaces/{space}/messages/latest", s.handleMessageLatest)
	api("DELETE /api/v1/spaces/{space}/messages/{message}", s.handleMessageDelete)
	api("GET /api/v1/spaces/{space}/messages/{message}/request", s.handleMessageRequest)
	api("GET /api/v1/spaces/{space}/threads", s.handleThreadList)
	api("GET /api/v1/spaces/{space}/requests", s.handleRequestList)
	api("GET /api/v1/spaces/{space}/requests/{request}", s.handleRequestGet)
	api("GET /api/v1/messages", s.handleMessageSearch)
	api("DELETE /api/v1/messages", s.handleMessagesClear)
	api("GET /api/v1/info", s.handleInfo)
	api("GET /api/v1/stats", s.handleStats)
	api("GET /api/v1/faults", s.handleFaultsGet)
	api("PUT /api/v1/faults", s.handleFaultsPut)
	api("DELETE /api/v1/faults", s.handleFaultsDelete)
	api("GET /api/v1/settings", s.handleSettingsGet)
	api("PUT /api/v1/settings", s.handleSettingsPut)
	api("POST /api/v1/reset", s.handleReset)
	api("GET /api/v1/events", s.handleEvents)
	api("/api/", handleAPINotFound)
	return mux
}
