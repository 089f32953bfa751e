package api_test

import (
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

func TestPathPrefixOnlyForTenantRoutes(t *testing.T) {
	env := apitest.New(t)
	env.Tenant(t, "pfx")
	for path, want := range map[string]int{
		"/t/pfx/auth/user/providers":   200,
		"/t/pfx/.well-known/jwks.json": 200,
		"/t/pfx/healthz":               404,
		"/t/pfx/metrics":               404,
		"/t/pfx/platform/tenants":      404,
		"/t/nope/auth/user/providers":  404,
		"/healthz":                     200,
	} {
		if r := env.Do(t, "GET", path, nil); r.Status != want {
			t.Errorf("GET %s = %d, want %d", path, r.Status, want)
		}
	}
}

func TestReadyz(t *testing.T) {
	env := apitest.New(t)
	if r := env.Do(t, "GET", "/readyz", nil); r.Status != 200 || r.JSON["status"] != "ok" {
		t.Errorf("GET /readyz = %d %s, want 200 ok", r.Status, r.Body)
	}
	_ = env.DB.Close() // the database goes away
	if r := env.Do(t, "GET", "/readyz", nil); r.Status != 503 || r.JSON["failing"] != "database" {
		t.Errorf("GET /readyz with the database closed = %d %s, want 503 naming database", r.Status, r.Body)
	}
}
