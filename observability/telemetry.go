package observability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config selects exporters.
type Config struct {
	// Traces is none, stdout or otlp (OTLP/HTTP configured by the standard
	// OTEL_EXPORTER_OTLP_* variables).
	Traces      string
	ServiceName string
	Version     string
	// JSONLogs selects JSON log lines (production) over text (development).
	JSONLogs bool
	LogLevel slog.Level
	// TraceOut receives stdout spans; os.Stdout when nil.
	TraceOut io.Writer
	// SpanProcessor, when set, is added to the tracer provider (tests use a
	// span recorder); it also forces tracing on.
	SpanProcessor sdktrace.SpanProcessor
	// MetricsTenants lists tenants (ids or slugs) whose auth-check metrics
	// carry a tenant label; all others are aggregated without one.
	MetricsTenants []string
	// TenantSlug names the slug of a tenant id from the request context,
	// so MetricsTenants may list slugs; nil: ids only.
	TenantSlug func(ctx context.Context, tenantID string) string
}

// Telemetry is the process's tracer, meter, metrics handler and logger.
type Telemetry struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	Logger         *slog.Logger
	Metrics        *Metrics
	registry       *prometheus.Registry
	shutdown       []func(context.Context) error
}

// New builds telemetry from cfg; logs go to logOut.
func New(ctx context.Context, cfg Config, logOut io.Writer) (*Telemetry, error) {
	if cfg.ServiceName == "" {
		cfg.ServiceName = "gatehouse"
	}
	t := &Telemetry{
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		registry:   prometheus.NewRegistry(),
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults,
	// as the OpenTelemetry specification asks (compose names each replica).
	res, err := resource.Merge(resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.Version)),
		resource.Environment())
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}

	var opts []sdktrace.TracerProviderOption
	switch cfg.Traces {
	case "", "none":
	case "stdout":
		out := cfg.TraceOut
		if out == nil {
			out = os.Stdout
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(out))
		if err != nil {
			return nil, fmt.Errorf("stdout trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	case "otlp":
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	default:
		return nil, fmt.Errorf("GATEHOUSE_TRACES=%q: want none, stdout or otlp", cfg.Traces)
	}
	if cfg.SpanProcessor != nil {
		opts = append(opts, sdktrace.WithSpanProcessor(cfg.SpanProcessor))
	}
	if len(opts) == 0 {
		t.TracerProvider = noop.NewTracerProvider()
	} else {
		tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithResource(res))...)
		t.TracerProvider = tp
		t.shutdown = append(t.shutdown, tp.Shutdown)
	}

	t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(t.registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	t.MeterProvider = mp
	t.shutdown = append(t.shutdown, mp.Shutdown)
	m, err := newMetrics(mp.Meter("gatehouse"), cfg)
	if err != nil {
		return nil, err
	}
	t.Metrics = m

	var h slog.Handler
	hopts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.JSONLogs {
		h = slog.NewJSONHandler(logOut, hopts)
	} else {
		h = slog.NewTextHandler(logOut, hopts)
	}
	t.Logger = slog.New(contextHandler{h})
	return t, nil
}

// Tracer returns the Gatehouse tracer.
func (t *Telemetry) Tracer() trace.Tracer {
	return t.TracerProvider.Tracer("github.com/gatehousehq/gatehouse")
}

// MetricsHandler serves /metrics in the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Shutdown flushes exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}
