package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Medusa's default CORS origins per route namespace (STORE_CORS, ADMIN_CORS,
// AUTH_CORS); a tenant replaces them with settings.cors.{store,admin,auth}.
var defaultCORS = map[string][]string{
	"store": {"http://localhost:8000"},
	"admin": {"http://localhost:7000", "http://localhost:7001", "http://localhost:5173"},
	"auth":  {"http://localhost:7000", "http://localhost:7001", "http://localhost:5173"},
}

// namespace names the CORS namespace of a path ("" for none).
func namespace(path string) string {
	for _, ns := range []string{"store", "admin", "auth"} {
		if path == "/"+ns || strings.HasPrefix(path, "/"+ns+"/") {
			return ns
		}
	}
	return ""
}

// allowedOrigins returns the tenant's origins for a namespace.
func allowedOrigins(tn *ent.Tenant, ns string) []string {
	if cors, ok := tn.Settings["cors"].(map[string]any); ok {
		if list, ok := cors[ns].([]any); ok {
			out := make([]string, 0, len(list))
			for _, v := range list {
				if s, ok := v.(string); ok {
					out = append(out, strings.TrimRight(s, "/"))
				}
			}
			return out
		}
	}
	return defaultCORS[ns]
}

// originAllowed reports whether a browser origin may call the tenant: it is
// one of the namespace's origins, or the tenant's own host.
func originAllowed(tn *ent.Tenant, ns, origin, host string) bool {
	if origin == "" {
		return false
	}
	for _, o := range allowedOrigins(tn, ns) {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// securityHeaders adds headers every response should carry; identity
// responses are never cached.
func (s *Server) securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if s.deps.HSTS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if namespace(c.Request.URL.Path) != "" || strings.HasPrefix(c.Request.URL.Path, "/platform") {
			h.Set("Cache-Control", "no-store")
		}
		c.Next()
	}
}

// cors answers browsers from the tenant's allowed origins, with credentials
// (cookie sessions), as Medusa does.
func (s *Server) cors() gin.HandlerFunc {
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		ns := namespace(c.Request.URL.Path)
		tn, ok := tenants.FromContext(c.Request.Context())
		if origin != "" && ns != "" && ok && originAllowed(tn, ns, origin, c.Request.Host) {
			h := c.Writer.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			if c.Request.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Publishable-Api-Key, X-Tenant-Id, X-Sales-Channel-Id, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
			}
		}
		if c.Request.Method == http.MethodOptions {
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

var errCrossSite = &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Type: "not_allowed", Message: "Cross-site request refused"}

// checkCSRF refuses a state-changing request authenticated by the session
// cookie that a browser sent from a foreign origin. Requests without Origin
// and Sec-Fetch-Site come from non-browser clients, which hold no victim's
// cookie.
func checkCSRF(c *gin.Context, tn *ent.Tenant) error {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	origin := c.GetHeader("Origin")
	if origin != "" && origin != "null" {
		if originAllowed(tn, namespace(c.Request.URL.Path), origin, c.Request.Host) {
			return nil
		}
		return errCrossSite
	}
	switch c.GetHeader("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return errCrossSite
	}
	if origin == "null" {
		return errCrossSite
	}
	return nil
}
