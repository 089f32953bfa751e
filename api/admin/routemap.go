package admin

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/rbac"
)

// routeJSON is one line of the /decisions route map.
type routeJSON struct {
	ID        string `json:"id,omitempty"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Resource  string `json:"resource,omitempty"`
	Operation string `json:"operation,omitempty"`
	// Policies lists every policy a built-in route needs ("resource:operation").
	Policies []string `json:"policies"`
	Public   bool     `json:"public"`
	// Source is "tenant" (editable here) or "default" (Gatehouse's own routes).
	Source string `json:"source"`
}

func routeView(r rbac.Route, source string) routeJSON {
	out := routeJSON{ID: r.ID, Method: r.Method, Path: r.Path, Public: r.Public, Source: source, Policies: []string{}}
	for _, p := range r.Perms {
		out.Policies = append(out.Policies, p.String())
	}
	if len(r.Perms) == 1 {
		out.Resource, out.Operation = r.Perms[0].Resource, r.Perms[0].Operation
	}
	return out
}

// defaultRouteViews lists the built-in routes, sorted.
func defaultRouteViews() []routeJSON {
	out := make([]routeJSON, 0, len(Policies))
	for key, perms := range Policies {
		method, path, _ := strings.Cut(key, " ")
		out = append(out, routeView(rbac.Route{Method: method, Path: path, Perms: perms}, "default"))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

var errNoRouteMap = gatehouse.Errorf(gatehouse.EUNAVAILABLE, "The route map is not available on this server")

// The /decisions route map (ours): the tenant's rules, which win, then the
// built-in table. PUT replaces the tenant's rules as a whole.
func registerRouteMap(g *gin.RouterGroup, d Deps) {
	render := func(c *gin.Context, rules []rbac.Route) {
		out := make([]routeJSON, 0, len(rules))
		for _, r := range rules {
			out = append(out, routeView(r, "tenant"))
		}
		defs := defaultRouteViews()
		c.JSON(http.StatusOK, gin.H{"routes": out, "defaults": defs, "count": len(out)})
	}
	g.GET("/rbac/route-map", wire.H(func(c *gin.Context) error {
		if d.RouteMap == nil {
			return errNoRouteMap
		}
		t, err := d.RouteMap.Table(c.Request.Context())
		if err != nil {
			return err
		}
		render(c, t.Routes())
		return nil
	}))
	g.PUT("/rbac/route-map", wire.H(func(c *gin.Context) error {
		if d.RouteMap == nil {
			return errNoRouteMap
		}
		var in struct {
			Routes *[]struct {
				Method    string `json:"method"`
				Path      string `json:"path"`
				Resource  string `json:"resource"`
				Operation string `json:"operation"`
				Public    bool   `json:"public"`
			} `json:"routes"`
		}
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		if in.Routes == nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "routes is required (an empty list removes every tenant route)")
		}
		rules := make([]rbac.RouteRuleInput, 0, len(*in.Routes))
		for _, r := range *in.Routes {
			rules = append(rules, rbac.RouteRuleInput{Method: r.Method, Path: r.Path, Resource: r.Resource, Operation: r.Operation, Public: r.Public})
		}
		saved, err := d.RouteMap.Replace(c.Request.Context(), rules)
		if err != nil {
			return err
		}
		render(c, saved)
		return nil
	}))
}
