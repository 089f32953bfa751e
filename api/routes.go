package api

import (
	"crypto/subtle"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/admin"
	"github.com/gatehousehq/gatehouse/api/authroutes"
	"github.com/gatehousehq/gatehouse/api/platform"
	"github.com/gatehousehq/gatehouse/api/store"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
	"github.com/gatehousehq/gatehouse/webhooks"
)

// Deps are the services a Gatehouse node serves.
type Deps struct {
	Telemetry *observability.Telemetry
	Tenants   *tenants.Registry
	Channels  *tenants.Channels
	Auth      *auth.Service
	RBAC      *rbac.Service
	// RouteMap holds the tenants' own /decisions route rules (nil: only
	// the built-in table).
	RouteMap    *rbac.RouteMap
	PlatformKey string
	// SecureCookies marks the session cookie Secure (every environment but
	// development).
	// Audit records state-changing requests; nil records nothing.
	Audit         *audit.Log
	SecureCookies bool
	// HSTS sends Strict-Transport-Security (production).
	HSTS bool
	// TrustedProxies are the addresses (CIDRs) whose X-Forwarded-For is believed.
	TrustedProxies []string
	Ready          []Check
	// Webhooks serves /admin/webhooks; nil answers 503 there.
	Webhooks *webhooks.Service
	// Console is the admin console's built files (web/dist); nil: the ones
	// embedded in the binary.
	Console fs.FS
}

func (s *Server) routes(e *gin.Engine) {
	d := s.deps
	// The admin console: a static single-page app that calls the public API
	// like any client; the platform console sits outside the platform key.
	cs := newConsole(d.Console)
	e.GET("/platform/app", cs.redirect)
	e.GET("/platform/app/*path", cs.serve)
	pg := e.Group("/platform", s.platformKey(), s.auditTrail(platformTarget))
	platform.Register(pg, d.Tenants)
	pg.GET("/audit-events", wire.H(s.platformAudit))

	// Forward-auth for gateways: the tenant comes from the original request.
	e.GET("/decisions", s.decision)
	e.POST("/decisions", s.decision)
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		e.Handle(m, "/decisions/*path", s.decision) // Envoy ext_authz: original path appended
	}

	t := e.Group("", s.tenant(), s.cors(), s.auditTrail(targetFromPath))
	// Preflight requests: OPTIONS has its own routing tree, so a catch-all
	// here cannot clash with the routes; cors answers them.
	t.OPTIONS("/*path", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	t.GET("/.well-known/jwks.json", wire.H(s.jwks))
	t.GET("/app", cs.redirect)
	t.GET("/app/*path", cs.serve)

	authroutes.Register(t.Group("/auth"), authroutes.Deps{
		Auth: d.Auth, Telemetry: d.Telemetry, SecureCookies: d.SecureCookies,
		Authenticate: s.authenticateFor,
	})

	// Invite acceptance authenticates itself: a registration token, no API keys.
	admin.RegisterAccept(t.Group("/admin/invites", s.authenticateFor(wire.AuthSpec{
		Actors: []string{auth.ActorUser}, Bearer: true, Session: true, AllowUnregistered: true,
	}), wire.KnownQuery(admin.Query, channelParam)), admin.Deps{Auth: d.Auth, Channels: d.Channels, RBAC: d.RBAC, Audit: d.Audit})

	ag := t.Group("/admin", s.authenticateFor(wire.AuthSpec{
		Actors: []string{auth.ActorUser}, Bearer: true, Session: true, APIKey: true,
	}))
	ag.Use(s.authorize(admin.Policies), wire.KnownQuery(admin.Query, channelParam))
	admin.Register(ag, admin.Deps{Auth: d.Auth, Channels: d.Channels, RBAC: d.RBAC, Audit: d.Audit, Webhooks: d.Webhooks, RouteMap: d.RouteMap})

	sg := t.Group("/store", s.publishableKey(), s.authenticateFor(wire.AuthSpec{
		Actors: []string{auth.ActorCustomer}, Bearer: true, Session: true, Optional: true, AllowUnregistered: true,
	}), wire.KnownQuery(store.Query, channelParam))
	store.Register(sg, store.Deps{Auth: d.Auth})
}

// platformKey guards /platform with the operators' key, compared in constant
// time. With no key configured, nothing gets in.
func (s *Server) platformKey() gin.HandlerFunc {
	key := []byte(s.deps.PlatformKey)
	return func(c *gin.Context) {
		tok := wire.BearerToken(c.GetHeader("Authorization"))
		if len(key) == 0 || tok == "" || subtle.ConstantTimeCompare([]byte(tok), key) != 1 {
			wire.Render(c, wire.Unauthorized)
			return
		}
		c.Next()
	}
}

// tenant resolves the request's tenant and scopes the request context to it.
func (s *Server) tenant() gin.HandlerFunc {
	return func(c *gin.Context) {
		slug, _ := c.Request.Context().Value(pathSlugKey{}).(string)
		tn, err := s.deps.Tenants.Resolve(c.Request.Context(), tenants.Request{
			Host: c.Request.Host, PathSlug: slug, HeaderID: c.GetHeader("X-Tenant-Id"),
		})
		if err != nil {
			wire.Render(c, err)
			return
		}
		ctx := tenants.NewContext(c.Request.Context(), tn)
		ctx = observability.WithLogAttrs(ctx, slogTenant(tn.ID))
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

func (s *Server) jwks(c *gin.Context) error {
	keys, err := s.deps.Auth.Keys().JWKS(c.Request.Context())
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, gin.H{"keys": keys})
	return nil
}
