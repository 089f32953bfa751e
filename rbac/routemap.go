package rbac

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/routerule"
	"github.com/gatehousehq/gatehouse/tenants"
)

// RouteMapChannel is the Bus channel on which a tenant's route-map changes
// are announced (message: the tenant id).
const RouteMapChannel = "rbac:routemap"

// MaxRouteRules bounds a tenant's route map.
const MaxRouteRules = 500

// Route is one line of a route table: requests with Method (or "*" for any)
// whose path matches Path need Perms, or nothing at all when Public. Path
// segments are literals, ":name" (any one segment) or a final "*" (any
// rest, including nothing).
type Route struct {
	ID     string       `json:"id,omitempty"`
	Method string       `json:"method"`
	Path   string       `json:"path"`
	Perms  []Permission `json:"-"`
	Public bool         `json:"public"`

	segs   []string
	static int
	rest   bool
}

// compile splits the pattern once, for Match.
func (r *Route) compile() {
	r.segs = strings.Split(strings.Trim(r.Path, "/"), "/")
	if n := len(r.segs); n > 0 && r.segs[n-1] == "*" {
		r.rest, r.segs = true, r.segs[:n-1]
	}
	r.static = 0
	for _, s := range r.segs {
		if !strings.HasPrefix(s, ":") {
			r.static++
		}
	}
}

func (r *Route) matches(method string, segs []string) bool {
	if r.Method != "*" && r.Method != method {
		return false
	}
	if len(segs) < len(r.segs) || (!r.rest && len(segs) != len(r.segs)) {
		return false
	}
	for i, p := range r.segs {
		if p[0] != ':' && p != segs[i] {
			return false
		}
	}
	return true
}

// RouteTable matches requests to routes; the route with the most literal
// segments wins, then an exact length over a trailing "*".
type RouteTable struct{ routes []Route }

// NewRouteTable compiles routes.
func NewRouteTable(routes []Route) *RouteTable {
	t := &RouteTable{routes: make([]Route, len(routes))}
	copy(t.routes, routes)
	for i := range t.routes {
		t.routes[i].compile()
	}
	return t
}

// Match returns the route of method and path.
func (t *RouteTable) Match(method, path string) (*Route, bool) {
	if t == nil {
		return nil, false
	}
	var buf [16]string // a request path's segments, on the stack
	segs := splitPath(path, buf[:0])
	var best *Route
	for i := range t.routes {
		r := &t.routes[i]
		if !r.matches(method, segs) {
			continue
		}
		if best == nil || r.static > best.static || (r.static == best.static && best.rest && !r.rest) {
			best = r
		}
	}
	return best, best != nil
}

// splitPath appends the "/"-separated segments of path (trimmed of slashes)
// to segs: strings.Split's result, without allocating for up to cap(segs).
func splitPath(path string, segs []string) []string {
	rest := strings.Trim(path, "/")
	for {
		seg, tail, more := strings.Cut(rest, "/")
		segs = append(segs, seg)
		if !more {
			return segs
		}
		rest = tail
	}
}

// Routes returns the table's routes.
func (t *RouteTable) Routes() []Route {
	if t == nil {
		return nil
	}
	return t.routes
}

// RouteMap keeps each tenant's own route rules (the RouteRule entity), which
// /decisions consults before the built-in Medusa table. Compiled tables are
// cached per tenant, dropped on change here and, through the Bus, on every
// other node; while the Bus is not fresh the cache is bypassed.
type RouteMap struct {
	db    *ent.Client
	bus   tenants.Bus
	cache *expirable.LRU[string, *RouteTable]
	stop  func()
}

// NewRouteMap returns the route map over db; bus may be nil (one node).
func NewRouteMap(db *ent.Client, bus tenants.Bus, size int) *RouteMap {
	if size <= 0 {
		size = 10000
	}
	// The TTL bounds staleness should an invalidation message be lost.
	return &RouteMap{db: db, bus: bus, cache: expirable.NewLRU[string, *RouteTable](size, nil, time.Minute)}
}

// Start subscribes to changes made on other nodes.
func (m *RouteMap) Start(ctx context.Context) error {
	if m.bus == nil {
		return nil
	}
	stop, err := m.bus.Subscribe(ctx, RouteMapChannel, func(tenantID string) { m.cache.Remove(tenantID) })
	if err != nil {
		return fmt.Errorf("subscribe to route-map changes: %w", err)
	}
	m.stop = stop
	return nil
}

// Close stops the subscription.
func (m *RouteMap) Close() {
	if m.stop != nil {
		m.stop()
	}
}

// Table returns the route table of the tenant in ctx (empty when it has no
// rules).
func (m *RouteMap) Table(ctx context.Context) (*RouteTable, error) {
	tn, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	fresh := tenants.BusFresh(m.bus)
	if fresh {
		if t, ok := m.cache.Get(tn.ID); ok {
			return t, nil
		}
	}
	rules, err := m.db.RouteRule.Query().Order(ent.Asc(routerule.FieldMethod), ent.Asc(routerule.FieldPath)).All(ctx)
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EUNAVAILABLE, err, "Route map unavailable, try again shortly")
	}
	t := NewRouteTable(routesOf(rules))
	if fresh {
		m.cache.Add(tn.ID, t)
	}
	return t, nil
}

func routesOf(rules []*ent.RouteRule) []Route {
	out := make([]Route, 0, len(rules))
	for _, r := range rules {
		rt := Route{ID: r.ID, Method: r.Method, Path: r.Path, Public: r.Public}
		if !r.Public {
			rt.Perms = []Permission{{Resource: r.Resource, Operation: r.Operation}}
		}
		out = append(out, rt)
	}
	return out
}

// RouteRuleInput is one rule of a route-map replacement.
type RouteRuleInput struct {
	Method    string
	Path      string
	Resource  string
	Operation string
	Public    bool
}

var (
	routeMethods = map[string]bool{"*": true, "GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
	routeSegment = regexp.MustCompile(`^(\*|:[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~!$&'()+,;=@-]+)$`)
	routeName    = regexp.MustCompile(`^(\*|[a-z][a-z0-9_]{0,63})$`)
)

func validateRule(i int, in *RouteRuleInput) error {
	bad := func(format string, args ...any) error {
		return gatehouse.Errorf(gatehouse.EINVALID, "routes[%d]: "+format, append([]any{i}, args...)...)
	}
	in.Method = strings.ToUpper(strings.TrimSpace(in.Method))
	if !routeMethods[in.Method] {
		return bad("method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or *")
	}
	if !strings.HasPrefix(in.Path, "/") || len(in.Path) > 512 {
		return bad("path must start with / (at most 512 characters)")
	}
	segs := strings.Split(strings.Trim(in.Path, "/"), "/")
	for j, s := range segs {
		if s == "" && len(segs) == 1 {
			break // "/"
		}
		if !routeSegment.MatchString(s) || (s == "*" && j != len(segs)-1) {
			return bad("path segment %q is not a literal, :param, or a final *", s)
		}
	}
	if in.Public {
		if in.Resource != "" || in.Operation != "" {
			return bad("a public route has no resource or operation")
		}
		return nil
	}
	if !routeName.MatchString(in.Resource) || !routeName.MatchString(in.Operation) {
		return bad("resource and operation are required (lower-case letters, digits, _ or *)")
	}
	return nil
}

// Replace replaces the tenant's route rules with rules, atomically, and
// announces the change. Errors: invalid (with the offending rule's index).
func (m *RouteMap) Replace(ctx context.Context, rules []RouteRuleInput) ([]Route, error) {
	tn, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	if len(rules) > MaxRouteRules {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "A route map has at most %d routes", MaxRouteRules)
	}
	seen := map[string]int{}
	for i := range rules {
		if err := validateRule(i, &rules[i]); err != nil {
			return nil, err
		}
		key := rules[i].Method + " " + rules[i].Path
		if j, dup := seen[key]; dup {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "routes[%d] repeats routes[%d] (%s)", i, j, key)
		}
		seen[key] = i
	}
	tx, err := m.db.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("route map: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.RouteRule.Delete().Exec(ctx); err != nil {
		return nil, fmt.Errorf("route map: %w", err)
	}
	bulk := make([]*ent.RouteRuleCreate, len(rules))
	for i, r := range rules {
		bulk[i] = tx.RouteRule.Create().SetMethod(r.Method).SetPath(r.Path).SetResource(nonEmpty(r.Resource)).
			SetOperation(nonEmpty(r.Operation)).SetPublic(r.Public)
	}
	saved, err := tx.RouteRule.CreateBulk(bulk...).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("route map: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("route map: %w", err)
	}
	m.cache.Remove(tn.ID)
	if m.bus != nil {
		_ = m.bus.Publish(context.WithoutCancel(ctx), RouteMapChannel, tn.ID)
	}
	return routesOf(saved), nil
}

// nonEmpty stores public routes' unused resource and operation as "-".
func nonEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
