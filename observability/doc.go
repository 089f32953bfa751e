// Package observability provides the tracer, meter and logger of a Gatehouse
// process: OpenTelemetry traces (none, stdout or OTLP), OpenTelemetry metrics
// exported to Prometheus at /metrics, log/slog with request-scoped attributes,
// and the auth.check span every authentication and authorization decision
// records. It imports nothing of ours.
package observability
