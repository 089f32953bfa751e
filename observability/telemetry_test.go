package observability

import (
	"bytes"
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// TestServiceNameFromEnvironment: OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES name the service's spans, as the OpenTelemetry
// specification asks; without them the service is "gatehouse".
func TestServiceNameFromEnvironment(t *testing.T) {
	name := func(t *testing.T) (string, map[string]string) {
		rec := tracetest.NewSpanRecorder()
		tel, err := New(context.Background(), Config{SpanProcessor: rec, Version: "test"}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		_, span := tel.Tracer().Start(context.Background(), "probe")
		span.End()
		spans := rec.Ended()
		if len(spans) != 1 {
			t.Fatalf("%d spans, want 1", len(spans))
		}
		attrs := map[string]string{}
		for _, kv := range spans[0].Resource().Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		return attrs[string(semconv.ServiceNameKey)], attrs
	}
	t.Run("default", func(t *testing.T) {
		t.Setenv("OTEL_SERVICE_NAME", "")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
		if got, _ := name(t); got != "gatehouse" {
			t.Errorf("service.name = %q, want gatehouse", got)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("OTEL_SERVICE_NAME", "gatehouse-a")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
		got, attrs := name(t)
		if got != "gatehouse-a" || attrs["deployment.environment"] != "staging" || attrs["service.version"] != "test" {
			t.Errorf("resource = %v, want service.name gatehouse-a, the environment's attributes and the version", attrs)
		}
	})
}
