package observability

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// DependencyTracerProvider is the tracer provider of the database and Redis
// clients. It records a span only under an existing one (a request's
// server span), so background work — the webhook dispatcher's polling,
// cache-invalidation subscriptions, pool pings — does not flood the
// exporter with one-span traces.
func (t *Telemetry) DependencyTracerProvider() trace.TracerProvider {
	return childOnlyProvider{tp: t.TracerProvider}
}

type childOnlyProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childOnlyProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{t: p.tp.Tracer(name, opts...)}
}

type childOnlyTracer struct {
	embedded.Tracer
	t trace.Tracer
}

// Start starts a span when ctx carries a valid span context; otherwise it
// returns ctx and a non-recording span.
func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.t.Start(ctx, name, opts...)
}
