package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/admin"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

// forwarded is the original request an API gateway asks about.
type forwarded struct {
	method, host, path string
	rawQuery           string
	slug               string // from a /t/{slug}/ prefix of the original path
}

// originalRequest reads the request a gateway forwards: Traefik's
// X-Forwarded-Method/-Uri/-Host, nginx auth_request's X-Original-Method/-URI,
// or (Envoy ext_authz over HTTP) the request itself, whose path after
// /decisions is the original path.
func originalRequest(c *gin.Context) forwarded {
	h := c.Request.Header
	f := forwarded{method: c.Request.Method, host: c.Request.Host}
	uri := ""
	switch {
	case h.Get("X-Forwarded-Uri") != "":
		uri = h.Get("X-Forwarded-Uri")
		if m := h.Get("X-Forwarded-Method"); m != "" {
			f.method = m
		}
	case h.Get("X-Original-Uri") != "":
		uri = h.Get("X-Original-Uri")
		if m := h.Get("X-Original-Method"); m != "" {
			f.method = m
		}
	default:
		uri = strings.TrimPrefix(c.Request.URL.Path, "/decisions")
		if c.Request.URL.RawQuery != "" {
			uri += "?" + c.Request.URL.RawQuery
		}
	}
	if fh := h.Get("X-Forwarded-Host"); fh != "" {
		f.host = fh
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || uri == "" {
		u = &url.URL{Path: "/"}
	}
	f.path, f.rawQuery = u.Path, u.RawQuery
	if rest, ok := strings.CutPrefix(f.path, "/t/"); ok {
		f.slug, f.path, _ = strings.Cut(rest, "/")
		f.path = "/" + f.path
	}
	f.method = strings.ToUpper(f.method)
	return f
}

// defaultRoutes is the built-in route table of /decisions: every /admin
// route Gatehouse serves, with the policies it declares (admin.Policies).
var defaultRoutes = func() *rbac.RouteTable {
	routes := make([]rbac.Route, 0, len(admin.Policies))
	for key, perms := range admin.Policies {
		method, path, _ := strings.Cut(key, " ")
		routes = append(routes, rbac.Route{Method: method, Path: path, Perms: perms})
	}
	return rbac.NewRouteTable(routes)
}()

// routePolicy says what the original request needs: the tenant's own route
// map first, then the built-in table, then a policy derived from an /admin
// path. declared is false for an /admin path none of them can name (refused).
func (s *Server) routePolicy(c *gin.Context, method, path string) (need []rbac.Permission, public, declared bool, err error) {
	if s.deps.RouteMap != nil {
		t, err := s.deps.RouteMap.Table(c.Request.Context())
		if err != nil {
			return nil, false, false, err
		}
		if r, ok := t.Match(method, path); ok {
			return r.Perms, r.Public, true, nil
		}
	}
	if r, ok := defaultRoutes.Match(method, path); ok {
		return r.Perms, false, true, nil
	}
	if strings.HasPrefix(path, "/admin/") {
		need = derivedPolicy(method, path)
		return need, false, need != nil, nil
	}
	return nil, false, true, nil
}

// derivedPolicy names the policy of an admin route Gatehouse does not serve
// itself (a Medusa commerce route behind the gateway): /admin/{resources}/…
// is resource "resource" (singular, hyphens as underscores); GET reads, POST
// on the collection creates, POST on an item updates, DELETE deletes.
func derivedPolicy(method, path string) []rbac.Permission {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) < 2 || segs[0] != "admin" {
		return nil
	}
	res := strings.ReplaceAll(strings.TrimSuffix(segs[1], "s"), "-", "_")
	if strings.HasSuffix(segs[1], "ies") {
		res = strings.ReplaceAll(strings.TrimSuffix(segs[1], "ies")+"y", "-", "_")
	}
	op := ""
	switch method {
	case http.MethodGet, http.MethodHead:
		op = "read"
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		op = "update"
		if len(segs) == 2 {
			op = "create"
		}
	case http.MethodDelete:
		op = "delete"
	default:
		return nil
	}
	return []rbac.Permission{{Resource: res, Operation: op}}
}

// decision is the forward-auth endpoint: 200 with X-Gatehouse-* identity
// headers when the original request may proceed, else Medusa's 401 or 403.
func (s *Server) decision(c *gin.Context) {
	f := originalRequest(c)
	tn, err := s.deps.Tenants.Resolve(c.Request.Context(), tenants.Request{Host: f.host, PathSlug: f.slug, HeaderID: c.GetHeader("X-Tenant-Id")})
	if err != nil {
		wire.Render(c, err)
		return
	}
	// Judge the original request: its method, path and query, with the
	// credentials the gateway forwarded.
	// A shallow copy: the headers are only read, and the URL is replaced.
	r := c.Request.WithContext(tenants.NewContext(c.Request.Context(), tn))
	r.Method = f.method
	r.URL = &url.URL{Path: f.path, RawQuery: f.rawQuery}
	c.Request = r

	var ac *auth.Context
	var channels []string
	switch namespace(f.path) {
	case "auth":
		// Login, registration and reset are public by design.
	case "store":
		pk, err := s.storeDecision(c, tn)
		if err != nil {
			wire.Render(c, err)
			return
		}
		channels = pk.SalesChannelIDs
		// Each channel the query names, in any form (the service behind
		// the gateway may read sales_channel_id[1] as well as the first).
		for _, want := range wire.QueryList(c, channelParam) {
			if !contains(channels, want) {
				wire.Render(c, &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Type: "not_allowed",
					Message: "Requested sales channel is not part of the publishable key"})
				return
			}
		}
		ac, _ = auth.FromContext(c.Request.Context())
	default:
		// /admin, and any other path of the merchant's services: an admin
		// actor, authorized by the route's policy; or nobody at all on a
		// route the tenant's route map marks public.
		need, public, declared, err := s.routePolicy(c, f.method, f.path)
		if err != nil {
			wire.Render(c, err)
			return
		}
		if public {
			break
		}
		spec := wire.AuthSpec{Actors: []string{auth.ActorUser}, Bearer: true, Session: true, APIKey: true}
		ctx, check := s.deps.Telemetry.StartAuthCheck(c.Request.Context(), tn.ID, "none")
		c.Request = c.Request.WithContext(ctx)
		a, err := s.authenticate(c, spec, check)
		if err != nil {
			check.End(ctx, observability.Deny, "invalid")
			wire.Render(c, err)
			return
		}
		check.End(ctx, observability.Allow, "ok")
		ac = a
		c.Request = c.Request.WithContext(auth.NewContext(c.Request.Context(), ac))
		named, err := requestChannels(c, ac, pathChannel(f.path))
		if err != nil {
			wire.Render(c, err)
			return
		}
		if len(need) > 0 || !declared || len(named) > 0 {
			if err := s.checkPolicies(c.Request.Context(), ac, need, declared, named); err != nil {
				wire.Render(c, err)
				return
			}
		}
		if ac.ChannelLimited {
			channels = ac.SalesChannels
		}
	}
	// The keys are canonical; the values share one array (one allocation
	// for the three, as every allowed request carries them).
	h := c.Writer.Header()
	if ac != nil {
		v := [...]string{tn.ID, ac.ActorType, ac.ActorID}
		vals := v[:]
		h["X-Gatehouse-Tenant"] = vals[0:1:1]
		h["X-Gatehouse-Actor-Type"] = vals[1:2:2]
		h["X-Gatehouse-Actor-Id"] = vals[2:3:3]
	} else {
		h["X-Gatehouse-Tenant"] = []string{tn.ID}
	}
	if len(channels) > 0 {
		h.Set("X-Gatehouse-Sales-Channels", strings.Join(channels, ","))
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", allowedBody)
}

// allowedBody is the body of every 200 of /decisions, encoded once.
var allowedBody = []byte(`{"allowed":true}`)

// storeDecision applies the /store chain: a publishable key, then optional
// customer authentication.
func (s *Server) storeDecision(c *gin.Context, tn *ent.Tenant) (*auth.Publishable, error) {
	pk, err := s.checkPublishable(c, tn)
	if err != nil {
		return nil, err
	}
	spec := wire.AuthSpec{Actors: []string{auth.ActorCustomer}, Bearer: true, Session: true, Optional: true}
	cctx, ccheck := s.deps.Telemetry.StartAuthCheck(c.Request.Context(), tn.ID, "none")
	c.Request = c.Request.WithContext(cctx)
	ac, err := s.authenticate(c, spec, ccheck)
	if err != nil {
		ccheck.End(cctx, observability.Deny, "invalid")
		return nil, err
	}
	ccheck.End(cctx, observability.Allow, "ok")
	if ac != nil {
		c.Request = c.Request.WithContext(auth.NewContext(c.Request.Context(), ac))
	}
	return pk, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
