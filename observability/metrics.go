package observability

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics are Gatehouse's instruments. Tenant ids are never labels: with
// thousands of tenants they would explode cardinality.
type Metrics struct {
	httpDuration metric.Float64Histogram
	authChecks   metric.Int64Counter
	authDuration metric.Float64Histogram
	logins       metric.Int64Counter
}

func newMetrics(m metric.Meter) (*Metrics, error) {
	var err error
	x := &Metrics{}
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

func (m *Metrics) authCheck(ctx context.Context, method, decision, reason string, d time.Duration) {
	attrs := metric.WithAttributes(
		attribute.String("method", method),
		attribute.String("decision", decision),
		attribute.String("reason", reason),
	)
	m.authChecks.Add(ctx, 1, attrs)
	m.authDuration.Record(ctx, d.Seconds(), metric.WithAttributes(attribute.String("decision", decision)))
}
