package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehousehq/gatehouse/api"
	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestOpenAPICoversRoutes fails when a registered Gin route is missing from
// api/openapi.yaml or the document names a route that does not exist, when
// the document is not valid OpenAPI, and when docs/openapi.yaml (the copy
// for readers) differs from api/openapi.yaml (the embedded canonical file).
func TestOpenAPICoversRoutes(t *testing.T) {
	canonical, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonical, api.OpenAPIYAML()) {
		t.Fatal("the embedded document is not api/openapi.yaml")
	}
	docsCopy, err := os.ReadFile(filepath.Join("..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonical, docsCopy) {
		t.Error("docs/openapi.yaml differs from api/openapi.yaml (the canonical file): cp api/openapi.yaml docs/openapi.yaml")
	}

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(canonical)
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi: %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.yaml is not valid: %v", err)
	}

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	e := apitest.New(t)
	srv := api.New(api.Deps{Telemetry: e.Telemetry, Tenants: e.Tenants, Channels: e.Channels, Auth: e.Auth, RBAC: e.RBAC, PlatformKey: e.PlatformKey})
	param := regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)
	registered := map[string]bool{}
	for _, r := range srv.Routes() {
		if r.Method == "OPTIONS" {
			continue // CORS preflight for every tenant route, not an operation
		}
		registered[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(registered) < 40 {
		t.Fatalf("only %d routes registered: the server was not built fully", len(registered))
	}

	var missing, extra []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("route %s is registered but not in api/openapi.yaml", k)
	}
	for _, k := range extra {
		t.Errorf("api/openapi.yaml describes %s, which is not a registered route", k)
	}

	// Every operation has an operationId, a summary and at least one response.
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: operationId and summary are required", where)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", where)
			}
		}
	}

	// The server serves the same document as JSON.
	res := e.Do(t, "GET", "/openapi.json", nil)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("content-type"), "application/json") {
		t.Fatalf("GET /openapi.json: %d %s", res.Status, res.Header.Get("content-type"))
	}
	var served map[string]any
	if err := json.Unmarshal(res.Body, &served); err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	if served["openapi"] != doc.OpenAPI {
		t.Errorf("served openapi %v, want %s", served["openapi"], doc.OpenAPI)
	}
	paths, _ := served["paths"].(map[string]any)
	if len(paths) != len(doc.Paths.Map()) {
		t.Errorf("served %d paths, the document has %d", len(paths), len(doc.Paths.Map()))
	}
}
