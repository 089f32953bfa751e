package api_test

import (
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// TestAuditTrail: state-changing requests (logins, key creation and
// revocation, role changes…) are recorded with actor, target and result;
// reads are not; tenant B sees none of tenant A's events; no secret is
// recorded; platform operations go to the platform trail.
func TestAuditTrail(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "aud")
	const pw = "audit-password-7"
	uid, tok := env.Admin(t, tn, "a@aud.test", pw)
	h := func(kv ...string) []string {
		return append([]string{"x-tenant-id", "aud", "User-Agent", "audit-test"}, kv...)
	}

	env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "a@aud.test", "password": "wrong-password"}, h()...)
	key := env.Do(t, "POST", "/admin/api-keys", map[string]any{"title": "k", "type": "secret"}, h("authorization", "Bearer "+tok)...)
	k := key.JSON["api_key"].(map[string]any)
	keyID, raw := k["id"].(string), k["token"].(string)
	env.Do(t, "POST", "/admin/api-keys/"+keyID+"/revoke", map[string]any{}, h("authorization", "Bearer "+tok)...)
	env.Do(t, "GET", "/admin/users", nil, h("authorization", "Bearer "+tok)...)

	r := env.Do(t, "GET", "/admin/audit-events?limit=100", nil, h("authorization", "Bearer "+tok)...)
	if r.Status != 200 {
		t.Fatalf("GET /admin/audit-events = %d %s", r.Status, r.Body)
	}
	events := r.JSON["audit_events"].([]any)
	find := func(action, target string) map[string]any {
		for _, e := range events {
			m := e.(map[string]any)
			if m["action"] == action && (target == "" || m["target_id"] == target) {
				return m
			}
		}
		return nil
	}
	if e := find("api_key.revoke", keyID); e == nil || e["actor_id"] != uid || e["actor_type"] != "user" ||
		e["result"] != "success" || e["target_type"] != "api_key" || e["user_agent"] != "audit-test" || e["request_id"] == "" {
		t.Errorf("revoke event = %v, want actor %s, target api_key %s, success, user agent and request id", e, uid, keyID)
	}
	if e := find("auth.login", ""); e == nil || e["result"] != "failure" || e["status"] != float64(401) || e["actor_type"] != "user" {
		t.Errorf("failed login event = %v, want failure 401 for actor type user", e)
	}
	if find("api_key.create", keyID) == nil {
		t.Errorf("no key creation event in %v", events)
	}
	if e := find("GET /admin/users", ""); e != nil {
		t.Errorf("a read was audited: %v", e)
	}
	for _, secret := range []string{pw, "wrong-password", raw, tok} {
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("the audit trail contains a secret (%.6s…)", secret)
		}
	}
	// Filters.
	f := env.Do(t, "GET", "/admin/audit-events?target_id="+keyID, nil, h("authorization", "Bearer "+tok)...)
	if f.JSON["count"] != float64(2) {
		t.Errorf("filter by target_id: count %v, want 2 (creation and revocation) (%s)", f.JSON["count"], f.Body)
	}
	if b := env.Do(t, "GET", "/admin/audit-events?created_at[$gte]=yesterday", nil, h("authorization", "Bearer "+tok)...); b.Status != 400 {
		t.Errorf("bad date filter = %d, want 400", b.Status)
	}

	// Tenant isolation.
	other := env.Tenant(t, "aud2")
	_, otherTok := env.Admin(t, other, "b@aud2.test", pw)
	o := env.Do(t, "GET", "/admin/audit-events?limit=100", nil, "x-tenant-id", "aud2", "authorization", "Bearer "+otherTok)
	if strings.Contains(string(o.Body), keyID) || strings.Contains(string(o.Body), uid) {
		t.Errorf("tenant aud2 sees tenant aud's events: %s", o.Body)
	}
	if x := env.Do(t, "GET", "/admin/audit-events", nil, "x-tenant-id", "aud", "authorization", "Bearer "+otherTok); x.Status != 401 {
		t.Errorf("aud2's token on aud's audit trail = %d, want 401", x.Status)
	}

	// Platform operations land in the platform trail, not in a tenant's.
	env.Do(t, "POST", "/platform/tenants/aud/suspend", nil, "authorization", "Bearer "+env.PlatformKey)
	p := env.Do(t, "GET", "/platform/audit-events", nil, "authorization", "Bearer "+env.PlatformKey)
	if p.Status != 200 || !strings.Contains(string(p.Body), `"action":"tenant.suspend"`) {
		t.Errorf("platform trail = %d %s, want the suspension", p.Status, p.Body)
	}
}
