package observability

import (
	"context"
	"fmt"
	"strings"
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

func (m *Metrics) authCheck(ctx context.Context, tenantID, method, decision, reason string, d time.Duration) {
	kv := []attribute.KeyValue{
		attribute.String("method", method),
		attribute.String("decision", decision),
		attribute.String("reason", reason),
	}
	dkv := []attribute.KeyValue{attribute.String("decision", decision)}
	if t := m.tenantLabel(ctx, tenantID); t != "" {
		kv = append(kv, attribute.String("tenant", t))
		dkv = append(dkv, attribute.String("tenant", t))
	}
	m.authChecks.Add(ctx, 1, metric.WithAttributes(kv...))
	m.authDuration.Record(ctx, d.Seconds(), metric.WithAttributes(dkv...))
}
