package emulator

import (
	"io"
	"io/fs"
	"net/http"

	"github.com/gchatkit/gchat/internal/emulator/render"
	"github.com/gchatkit/gchat/internal/emulator/ui"
)

// handlePage serves the page at the base path.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("live") == "0" {
		s.handleStatic(w, r)
		return
	}
	s.serveUI(w, r, "index.html")
}

// handleUIFile serves the page's other files.
func (s *Server) handleUIFile(w http.ResponseWriter, r *http.Request) {
	s.serveUI(w, r, r.PathValue("file"))
}

func (s *Server) serveUI(w http.ResponseWriter, r *http.Request, name string) {
	if !fs.ValidPath(name) || name == "." {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	http.ServeFileFS(w, r, ui.Files(), name)
}

// handleRenderCSS serves the renderer's stylesheet, which styles the html of
// every message.
func (s *Server) handleRenderCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, render.Stylesheet())
}

// handleFavicon serves the page's icon where browsers look for it first.
func (s *Server) handleFavicon(w http.ResponseWriter, r *http.Request) {
	s.serveUI(w, r, "favicon.svg")
}
