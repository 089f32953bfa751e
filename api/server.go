package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/observability"
)

// Check is a readiness dependency: /readyz answers 503 naming the first that fails.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Server is the HTTP handler of a Gatehouse node.
type Server struct {
	engine *gin.Engine
	deps   Deps
}

// New builds the router over deps.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = false
	e.RedirectTrailingSlash = false
	e.RemoveExtraSlash = false
	// The client address comes from the connection unless it is a listed
	// proxy (Gin trusts every proxy by default, which would let any caller
	// choose its own address and escape per-address throttling).
	if err := e.SetTrustedProxies(d.TrustedProxies); err != nil {
		_ = e.SetTrustedProxies(nil)
	}
	s := &Server{engine: e, deps: d}

	e.Use(s.recovery(), otelgin.Middleware("gatehouse",
		otelgin.WithTracerProvider(d.Telemetry.TracerProvider),
		otelgin.WithPropagators(d.Telemetry.Propagator),
	), s.requestID(), s.accessLog(), s.securityHeaders(), wire.TextSafe())
	e.NoRoute(func(c *gin.Context) {
		wire.Render(c, gatehouse.Errorf(gatehouse.ENOTFOUND, "Route %s %s not found", c.Request.Method, c.Request.URL.Path))
	})

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.json", s.openAPI)
	e.GET("/metrics", gin.WrapH(d.Telemetry.MetricsHandler()))
	s.routes(e)
	return s
}

// ServeHTTP strips a /t/{slug} prefix, remembering the slug for tenant
// resolution, so every tenant route is also served under the prefix (the
// SDK accepts a base URL with a path).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/t/"); ok && tenantTail(rest) {
		slug, tail, _ := strings.Cut(rest, "/")
		r2 := r.Clone(context.WithValue(r.Context(), pathSlugKey{}, slug))
		r2.URL.Path = "/" + tail
		r2.URL.RawPath = ""
		s.engine.ServeHTTP(w, r2)
		return
	}
	s.engine.ServeHTTP(w, r)
}

type pathSlugKey struct{}

func (s *Server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.deps.Telemetry.Logger.ErrorContext(c.Request.Context(), "panic", slog.Any("panic", v))
				wire.Render(c, gatehouse.Errorf(gatehouse.EINTERNAL, "panic"))
			}
		}()
		c.Next()
	}
}

func (s *Server) requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 128 {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Header("X-Request-Id", id)
		ctx := observability.WithLogAttrs(c.Request.Context(), slog.String("request_id", id))
		ctx = auth.WithClientIP(ctx, c.ClientIP())
		c.Request = c.Request.WithContext(ctx)
		wire.SetLogger(c, s.deps.Telemetry.Logger)
		c.Next()
	}
}

func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		d := time.Since(start)
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.deps.Telemetry.Metrics.HTTPRequest(c.Request.Context(), c.Request.Method, route, c.Writer.Status(), d)
		if route == "/healthz" || route == "/metrics" {
			return
		}
		// The query string is not logged: invite and reset tokens travel there.
		s.deps.Telemetry.Logger.InfoContext(c.Request.Context(), "request",
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", d),
		)
	}
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	for _, chk := range s.deps.Ready {
		if err := chk.Ping(ctx); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failing": chk.Name})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// tenantTail reports whether "{slug}/{tail}" names a tenant route: only the
// tenant families are served under /t/{slug}, not /healthz, /metrics or
// /platform.
func tenantTail(rest string) bool {
	_, tail, _ := strings.Cut(rest, "/")
	first, _, _ := strings.Cut(tail, "/")
	switch first {
	case "auth", "admin", "store", ".well-known", "app":
		return true
	}
	return false
}
