package observability

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func scrape(t *testing.T, tel *Telemetry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func authCheckLines(metrics string) []string {
	var out []string
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "gatehouse_auth_checks_total{") {
			out = append(out, l)
		}
	}
	return out
}

func TestMetricsTenantAllowList(t *testing.T) {
	slugs := map[string]string{"ten_A": "acme", "ten_B": "shop2", "ten_C": "other"}
	tests := []struct {
		name      string
		listed    []string
		want      []string // tenant labels expected
		wantNoTag int      // lines without a tenant label
	}{
		{name: "default: no tenant label", listed: nil, want: nil, wantNoTag: 1},
		{name: "by slug and id", listed: []string{"acme", " ten_B "}, want: []string{`tenant="acme"`, `tenant="ten_B"`}, wantNoTag: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, err := New(context.Background(), Config{MetricsTenants: tt.listed,
				TenantSlug: func(_ context.Context, id string) string { return slugs[id] }}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"ten_A", "ten_B", "ten_C"} {
				_, c := tel.StartAuthCheck(context.Background(), id, "bearer")
				c.End(context.Background(), Allow, "ok")
			}
			lines := authCheckLines(scrape(t, tel))
			joined := strings.Join(lines, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("/metrics lacks %s:\n%s", w, joined)
				}
			}
			for _, never := range []string{"ten_C", "other", "ten_A", "shop2"} {
				if strings.Contains(joined, `tenant="`+never+`"`) {
					t.Errorf("/metrics labels unlisted tenant %s:\n%s", never, joined)
				}
			}
			noTag := 0
			for _, l := range lines {
				if !strings.Contains(l, "tenant=") {
					noTag++
				}
			}
			if noTag != tt.wantNoTag {
				t.Errorf("%d auth-check series without a tenant label, want %d:\n%s", noTag, tt.wantNoTag, joined)
			}
		})
	}
}

func TestDependencyTracerProviderRecordsChildrenOnly(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := New(context.Background(), Config{SpanProcessor: rec}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dep := tel.DependencyTracerProvider().Tracer("db")
	_, orphan := dep.Start(context.Background(), "orphan")
	orphan.End()
	ctx, parent := tel.Tracer().Start(context.Background(), "request")
	_, child := dep.Start(ctx, "child")
	child.End()
	parent.End()
	var names bytes.Buffer
	for _, s := range rec.Ended() {
		names.WriteString(s.Name() + " ")
		if s.Name() == "child" && s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("child's parent = %v, want the request span", s.Parent().SpanID())
		}
	}
	if got := names.String(); got != "child request " {
		t.Errorf("ended spans = %q, want the child and the request, no orphan", got)
	}
}
