package gatehouse_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule enforces (api/apitest, the test harness, may import api) DESIGN.md's package table: dependencies point
// inward (api → auth/rbac/tenants → ent), nothing imports api or cmd, and
// observability and ent stay leaves.
func TestDependencyRule(t *testing.T) {
	const mod = "github.com/gatehousehq/gatehouse"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// allowed lists, per package prefix, which of our packages it may import.
	allowed := map[string][]string{
		mod + "/observability": {},
		mod + "/ent/schema":    {mod + "/ent", mod + "/tenants"},
		mod + "/ent":           {mod + "/ent"},
		mod + "/database":      {mod + "/ent", mod + "/database"},
		mod + "/tenants":       {mod, mod + "/ent", mod + "/observability"},
		mod + "/seal":          {},
		mod + "/auth":          {mod, mod + "/ent", mod + "/tenants", mod + "/observability", mod + "/audit", mod + "/seal"},
		mod + "/rbac":          {mod, mod + "/ent", mod + "/tenants", mod + "/observability", mod + "/audit"},
		mod + "/audit":         {mod, mod + "/ent", mod + "/tenants"},
		mod + "/webhooks":      {mod, mod + "/ent", mod + "/tenants", mod + "/audit", mod + "/seal"},
		mod + "/web":           {},
		mod + "/internal":      {}, // benchmark support (latency), a leaf
	}
	ours := func(p string) bool { return p == mod || strings.HasPrefix(p, mod+"/") }
	within := func(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if !ours(imp) {
				continue
			}
			checked++
			if within(imp, mod+"/cmd") {
				t.Errorf("%s imports %s: nothing imports cmd", pkg, imp)
			}
			if imp == mod+"/api" && !within(pkg, mod+"/cmd") && pkg != mod+"/api/apitest" {
				t.Errorf("%s imports %s: only cmd imports api", pkg, imp)
			}
			if within(imp, mod+"/api") && !within(pkg, mod+"/api") && !within(pkg, mod+"/cmd") {
				t.Errorf("%s imports %s: only api and cmd import api packages", pkg, imp)
			}
			// The most specific rule wins (ent/schema over ent).
			best := ""
			for prefix := range allowed {
				if within(pkg, prefix) && len(prefix) > len(best) {
					best = prefix
				}
			}
			if best == "" {
				continue
			}
			ok := false
			for _, a := range allowed[best] {
				ok = ok || within(imp, a) && (a != mod || imp == mod)
			}
			if !ok {
				t.Errorf("%s imports %s: not allowed by the dependency table", pkg, imp)
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list reported no imports of our packages: the test checked nothing")
	}
}
