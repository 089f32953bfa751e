package observability

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Decisions of an auth check.
const (
	Allow = "allow"
	Deny  = "deny"
	Error = "error"
)

// AuthCheck is one authentication or authorization decision in progress: a
// span named auth.check and a metric, recorded when End is called. Attributes
// name the method and outcome, never a token, key or password.
type AuthCheck struct {
	span     trace.Span
	metrics  *Metrics
	start    time.Time
	method   string
	tenantID string
}

// StartAuthCheck starts an auth.check span as a child of ctx. Attributes are
// set only on a span that records (one sampled, with an exporter): an
// unsampled check costs its metric and little else.
func (t *Telemetry) StartAuthCheck(ctx context.Context, tenantID, method string) (context.Context, *AuthCheck) {
	ctx, span := t.Tracer().Start(ctx, "auth.check")
	if span.IsRecording() {
		span.SetAttributes(attribute.String("tenant.id", tenantID), attribute.String("auth.method", method))
	}
	return ctx, &AuthCheck{span: span, metrics: t.Metrics, start: time.Now(), method: method, tenantID: tenantID}
}

// SetMethod records the credential type once it is known.
func (a *AuthCheck) SetMethod(method string) {
	a.method = method
	if a.span.IsRecording() {
		a.span.SetAttributes(attribute.String("auth.method", method))
	}
}

// Recording reports whether the span records attributes: callers skip
// building costly ones (joined policy lists) when it does not.
func (a *AuthCheck) Recording() bool { return a.span.IsRecording() }

// SetAttributes adds attributes (actor type, rbac resource and operation…).
func (a *AuthCheck) SetAttributes(kv ...attribute.KeyValue) { a.span.SetAttributes(kv...) }

// End records the decision and reason and ends the span.
func (a *AuthCheck) End(ctx context.Context, decision, reason string) {
	if a.span.IsRecording() {
		a.span.SetAttributes(attribute.String("auth.decision", decision), attribute.String("auth.reason", reason))
		if decision == Error {
			a.span.SetStatus(codes.Error, reason)
		}
	}
	a.span.End()
	a.metrics.authCheck(ctx, a.tenantID, a.method, decision, reason, time.Since(a.start))
}
