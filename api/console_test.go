package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gatehousehq/gatehouse/api"
	"github.com/gatehousehq/gatehouse/api/apitest"
)

// consoleServer is the real API server over a console file system.
func consoleServer(t *testing.T, console fstest.MapFS) (*api.Server, *apitest.Env) {
	t.Helper()
	e := apitest.New(t)
	e.Tenant(t, "demo")
	srv := api.New(api.Deps{Telemetry: e.Telemetry, Tenants: e.Tenants, Channels: e.Channels, Auth: e.Auth, RBAC: e.RBAC,
		PlatformKey: e.PlatformKey, Console: console})
	return srv, e
}

func serve(srv http.Handler, method, host, path string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

const testIndex = `<!doctype html><html><head><script type="module" src="./assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`

func TestConsoleBuilt(t *testing.T) {
	srv, _ := consoleServer(t, fstest.MapFS{
		"index.html":              {Data: []byte(testIndex)},
		"assets/index-abc123.js":  {Data: []byte("console.log(1)")},
		"assets/index-abc123.css": {Data: []byte("body{}")},
		"favicon.svg":             {Data: []byte("<svg/>")},
	})
	tests := []struct {
		name, host, path   string
		status             int
		contentType, cache string
		body               string
	}{
		{"index by host", "demo.localhost:9000", "/app/", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"index by path prefix", "localhost:9000", "/t/demo/app/", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"index by name", "demo.localhost", "/app/index.html", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"client-side route", "demo.localhost", "/app/users", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"nested client-side route", "localhost", "/t/demo/app/roles/role_1", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"hashed script", "demo.localhost", "/app/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log(1)"},
		{"hashed style", "localhost", "/t/demo/app/assets/index-abc123.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		{"unhashed file", "demo.localhost", "/app/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg/>"},
		{"missing asset", "demo.localhost", "/app/assets/index-old.js", 404, "text/plain; charset=utf-8", "no-store", "Not found"},
		{"missing file", "demo.localhost", "/app/robots.txt", 404, "text/plain; charset=utf-8", "no-store", "Not found"},
		{"dot-dot stays inside", "demo.localhost", "/app/assets/../../../go.mod", 404, "text/plain; charset=utf-8", "no-store", "Not found"},
		{"platform index", "localhost:9000", "/platform/app/", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"platform route", "localhost:9000", "/platform/app/tenants", 200, "text/html; charset=utf-8", "no-cache", testIndex},
		{"platform asset", "localhost:9000", "/platform/app/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log(1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(srv, "GET", tt.host, tt.path)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Fatalf("GET %s%s = %d %q, want %d %q", tt.host, tt.path, w.Code, w.Body.String(), tt.status, tt.body)
			}
			h := w.Header()
			if got := h.Get("Content-Type"); got != tt.contentType {
				t.Errorf("GET %s Content-Type = %q, want %q", tt.path, got, tt.contentType)
			}
			if got := h.Get("Cache-Control"); got != tt.cache {
				t.Errorf("GET %s Cache-Control = %q, want %q", tt.path, got, tt.cache)
			}
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("GET %s CSP %q lacks %q", tt.path, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(strings.SplitN(csp, "style-src", 2)[0], "unsafe-inline") {
				t.Errorf("GET %s CSP %q allows inline or eval'd script", tt.path, csp)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("GET %s X-Content-Type-Options = %q, want nosniff", tt.path, got)
			}
		})
	}

	t.Run("redirects keep the prefix", func(t *testing.T) {
		for _, tt := range []struct{ host, path string }{
			{"demo.localhost", "/app"}, {"localhost", "/t/demo/app"}, {"localhost", "/platform/app"},
		} {
			w := serve(srv, "GET", tt.host, tt.path)
			if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "app/" {
				t.Errorf("GET %s%s = %d Location %q, want 301 app/ (relative)", tt.host, tt.path, w.Code, w.Header().Get("Location"))
			}
		}
	})
	t.Run("etag", func(t *testing.T) {
		w := serve(srv, "GET", "demo.localhost", "/app/")
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Fatal("GET /app/: no ETag")
		}
		if w := serve(srv, "GET", "demo.localhost", "/app/", "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("GET /app/ If-None-Match %s = %d (%d bytes), want 304 and no body", etag, w.Code, w.Body.Len())
		}
	})
	t.Run("tenant rules still apply", func(t *testing.T) {
		if w := serve(srv, "GET", "nosuch.localhost", "/app/"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Unknown tenant") {
			t.Errorf("GET /app/ of an unknown tenant = %d %s, want 404 Unknown tenant", w.Code, w.Body.String())
		}
		if w := serve(srv, "GET", "localhost", "/t/nosuch/app/"); w.Code != http.StatusNotFound {
			t.Errorf("GET /t/nosuch/app/ = %d, want 404", w.Code)
		}
	})
	t.Run("platform console needs no key, platform API still does", func(t *testing.T) {
		if w := serve(srv, "GET", "localhost", "/platform/tenants"); w.Code != http.StatusUnauthorized {
			t.Errorf("GET /platform/tenants without the key = %d, want 401", w.Code)
		}
	})
}

func TestConsoleNotBuilt(t *testing.T) {
	// A fresh clone: web/dist holds only its README.
	srv, _ := consoleServer(t, fstest.MapFS{"README.txt": {Data: []byte("run make web")}})
	for _, p := range []string{"/app/", "/app/users", "/app/assets/index-abc.js", "/t/demo/app/", "/platform/app/"} {
		host := "demo.localhost"
		if !strings.HasPrefix(p, "/app") {
			host = "localhost"
		}
		w := serve(srv, "GET", host, p)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "make web") {
			t.Errorf("GET %s%s = %d %q, want 404 and a page saying to run make web", host, p, w.Code, w.Body.String())
		}
		if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s Content-Type = %q, want text/html", p, got)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s Cache-Control = %q, want no-store (a later build must show at once)", p, got)
		}
	}
	// The API is unaffected.
	if w := serve(srv, "GET", "localhost", "/healthz"); w.Code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", w.Code)
	}
}

// TestConsoleEmbedded checks the console embedded in this binary: built
// (after make web) or not (a fresh clone), /app/ answers HTML.
func TestConsoleEmbedded(t *testing.T) {
	e := apitest.New(t)
	e.Tenant(t, "demo")
	r := e.Do(t, "GET", "/app/", nil, "host", "demo.localhost")
	if (r.Status != http.StatusOK && r.Status != http.StatusNotFound) || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /app/ with the embedded console = %d %s, want 200 or 404 (not built) with HTML", r.Status, r.Header.Get("Content-Type"))
	}
}
