package admin_test

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/admin"
)

// TestEveryAdminRouteDeclaresPolicies: every route Register mounts has an
// entry in admin.Policies (the authorize middleware refuses undeclared
// routes), and every entry names a mounted route.
func TestEveryAdminRouteDeclaresPolicies(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	admin.Register(e.Group("/admin"), admin.Deps{})
	mounted := map[string]bool{}
	for _, r := range e.Routes() {
		key := r.Method + " " + r.Path
		mounted[key] = true
		if _, ok := admin.Policies[key]; !ok {
			t.Errorf("route %s declares no policies in admin.Policies", key)
		}
	}
	for key := range admin.Policies {
		if !mounted[key] {
			t.Errorf("admin.Policies[%q] names no mounted route", key)
		}
	}
}
