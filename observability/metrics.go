package observability

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics are Gatehouse's instruments. Tenants are not labels by default:
// with thousands of tenants they would explode cardinality. The auth-check
// metrics carry a tenant label for the tenants listed in
// Config.MetricsTenants only.
type Metrics struct {
	httpDuration metric.Float64Histogram
	authChecks   metric.Int64Counter
	authDuration metric.Float64Histogram
	logins       metric.Int64Counter
	// labelled maps a listed tenant id or slug to itself, the label value.
	labelled   map[string]string
	tenantSlug func(ctx context.Context, tenantID string) string
	// authSets caches the auth-check attribute sets (see authAttrsFor).
	authMu   sync.Mutex
	authSets atomic.Pointer[map[authKey]*authAttrs]
}

func newMetrics(m metric.Meter, cfg Config) (*Metrics, error) {
	var err error
	x := &Metrics{tenantSlug: cfg.TenantSlug}
	for _, t := range cfg.MetricsTenants {
		if t = strings.TrimSpace(t); t != "" {
			if x.labelled == nil {
				x.labelled = map[string]string{}
			}
			x.labelled[t] = t
		}
	}
	if x.httpDuration, err = m.Float64Histogram("gatehouse_http_request_duration_seconds",
		metric.WithDescription("HTTP request duration"), metric.WithUnit("s")); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if x.authChecks, err = m.Int64Counter("gatehouse_auth_checks",
		metric.WithDescription("Authentication and authorization decisions")); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if x.authDuration, err = m.Float64Histogram("gatehouse_auth_check_duration_seconds",
		metric.WithDescription("Duration of auth checks"), metric.WithUnit("s")); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if x.logins, err = m.Int64Counter("gatehouse_logins",
		metric.WithDescription("Login attempts by result")); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return x, nil
}

// HTTPRequest records one served request.
func (m *Metrics) HTTPRequest(ctx context.Context, method, route string, status int, d time.Duration) {
	m.httpDuration.Record(ctx, d.Seconds(), metric.WithAttributes(
		attribute.String("http.request.method", method),
		attribute.String("http.route", route),
		attribute.Int("http.response.status_code", status),
	))
}

// Login records a login attempt; result is success or failure.
func (m *Metrics) Login(ctx context.Context, result string) {
	m.logins.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
}

// tenantLabel is the tenant label value of tenantID: the id or slug under
// which it is listed in Config.MetricsTenants, or "" when it is not listed.
func (m *Metrics) tenantLabel(ctx context.Context, tenantID string) string {
	if m.labelled == nil || tenantID == "" {
		return ""
	}
	if v, ok := m.labelled[tenantID]; ok {
		return v
	}
	if m.tenantSlug != nil {
		if slug := m.tenantSlug(ctx, tenantID); slug != "" {
			return m.labelled[slug]
		}
	}
	return ""
}

// authKey identifies one auth-check series: the attribute sets of a key are
// built once and reused (building an attribute.Set sorts and hashes its
// attributes, a tenth of a cached /decisions request when done per check).
type authKey struct{ method, decision, reason, tenant string }

// authAttrs are the prebuilt measurement options of one authKey, as slices so
// that passing them to Add and Record allocates nothing.
type authAttrs struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

// maxAuthSeries bounds the attribute-set cache; series past it (which would be
// a cardinality problem anyway) are built per call as before.
const maxAuthSeries = 4096

func newAuthAttrs(k authKey) *authAttrs {
	kv := []attribute.KeyValue{
		attribute.String("method", k.method),
		attribute.String("decision", k.decision),
		attribute.String("reason", k.reason),
	}
	dkv := []attribute.KeyValue{attribute.String("decision", k.decision)}
	if k.tenant != "" {
		kv = append(kv, attribute.String("tenant", k.tenant))
		dkv = append(dkv, attribute.String("tenant", k.tenant))
	}
	return &authAttrs{
		add: []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))},
		rec: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(dkv...))},
	}
}

// authAttrsFor returns the cached options of k, adding them on first use. The
// map is copy-on-write: readers take no lock and allocate nothing.
func (m *Metrics) authAttrsFor(k authKey) *authAttrs {
	if cur := m.authSets.Load(); cur != nil {
		if a, ok := (*cur)[k]; ok {
			return a
		}
	}
	m.authMu.Lock()
	defer m.authMu.Unlock()
	cur := m.authSets.Load()
	if cur != nil {
		if a, ok := (*cur)[k]; ok {
			return a
		}
	}
	a := newAuthAttrs(k)
	if cur != nil && len(*cur) >= maxAuthSeries {
		return a
	}
	n := 0
	if cur != nil {
		n = len(*cur)
	}
	next := make(map[authKey]*authAttrs, n+1)
	if cur != nil {
		maps.Copy(next, *cur)
	}
	next[k] = a
	m.authSets.Store(&next)
	return a
}

func (m *Metrics) authCheck(ctx context.Context, tenantID, method, decision, reason string, d time.Duration) {
	a := m.authAttrsFor(authKey{method: method, decision: decision, reason: reason, tenant: m.tenantLabel(ctx, tenantID)})
	m.authChecks.Add(ctx, 1, a.add...)
	m.authDuration.Record(ctx, d.Seconds(), a.rec...)
}
