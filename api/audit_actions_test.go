package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehousehq/gatehouse/api/admin"
	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/event"
)

// auditWant is what one request's audit event must say; "*" asks for any
// non-empty value, "-" for an empty one, "" skips the field.
type auditWant struct {
	action, actorType, actorID, targetType, targetID, result string
}

// auditTrail follows one trail (a tenant's, or the platform's) and hands out
// the events written since the last look.
type auditTrail struct {
	log  *audit.Log
	ctx  context.Context
	seen map[string]bool
}

func (a *auditTrail) fresh(t *testing.T) []*ent.AuditEvent {
	t.Helper()
	es, _, err := a.log.Find(a.ctx, audit.Filter{Limit: 10000})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	var out []*ent.AuditEvent
	for _, e := range es {
		if !a.seen[e.ID] {
			a.seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

func field(t *testing.T, what, name, got, want string) {
	t.Helper()
	switch {
	case want == "":
	case want == "*" && got == "", want == "-" && got != "", want != "*" && want != "-" && got != want:
		t.Errorf("%s: %s = %q, want %q", what, name, got, want)
	}
}

// check asserts that r answered with status (0: any success) and wrote
// exactly one audit event, as w says.
func (a *auditTrail) check(t *testing.T, what string, r *apitest.Response, status int, w auditWant) *ent.AuditEvent {
	t.Helper()
	if status == 0 && r.Status >= 400 || status != 0 && r.Status != status {
		t.Fatalf("%s = %d %s, want %d", what, r.Status, r.Body, status)
	}
	es := a.fresh(t)
	if len(es) != 1 {
		acts := []string{}
		for _, e := range es {
			acts = append(acts, e.Action)
		}
		t.Fatalf("%s wrote %d audit events %v, want exactly one %s", what, len(es), acts, w.action)
	}
	e := es[0]
	field(t, what, "action", e.Action, w.action)
	field(t, what, "actor_type", e.ActorType, w.actorType)
	field(t, what, "actor_id", e.ActorID, w.actorID)
	field(t, what, "target_type", e.TargetType, w.targetType)
	field(t, what, "target_id", e.TargetID, w.targetID)
	if w.result == "" {
		w.result = "success"
	}
	field(t, what, "result", string(e.Result), w.result)
	if e.Status != r.Status {
		t.Errorf("%s: status = %d, want %d (the response's)", what, e.Status, r.Status)
	}
	if e.RequestID == "" || e.IP == "" || e.UserAgent != "audit-actions" {
		t.Errorf("%s: request id %q, ip %q, user agent %q, want them all", what, e.RequestID, e.IP, e.UserAgent)
	}
	if route, _ := e.Details["route"].(string); !strings.Contains(route, " /") {
		t.Errorf("%s: details %v, want the route", what, e.Details)
	}
	return e
}

func idOf(t *testing.T, what string, r *apitest.Response, key string) string {
	t.Helper()
	m, _ := r.JSON[key].(map[string]any)
	id, _ := m["id"].(string)
	if id == "" {
		t.Fatalf("%s: no %s.id in %d %s", what, key, r.Status, r.Body)
	}
	return id
}

// TestAuditActions drives every audited action through HTTP once and checks
// its single event: semantic action, actor, target, result; changes made in
// a transaction carry their event in it; no event carries a secret; tenant
// B sees none of tenant A's events.
func TestAuditActions(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "act")
	const pw = "correct-horse-9"
	uid, tok := env.Admin(t, tn, "a@act.test", pw)
	log := audit.New(env.DB.Client)
	tr := &auditTrail{log: log, ctx: env.Ctx(tn), seen: map[string]bool{}}
	tr.fresh(t) // the admin's own login
	var secrets []string
	keep := func(s ...string) { secrets = append(secrets, s...) }
	keep(pw, tok)
	hdr := func(kv ...string) []string {
		return append([]string{"x-tenant-id", "act", "User-Agent", "audit-actions"}, kv...)
	}
	bearer := func(tok string) []string { return hdr("authorization", "Bearer "+tok) }
	do := func(method, path string, body any, h []string) *apitest.Response {
		t.Helper()
		return env.Do(t, method, path, body, h...)
	}
	user := func(action, actor, targetType, target string) auditWant {
		return auditWant{action: action, actorType: "user", actorID: actor, targetType: targetType, targetID: target}
	}

	// Logins, sessions, refresh.
	tr.check(t, "failed login", do("POST", "/auth/user/emailpass", map[string]any{"email": "a@act.test", "password": "wrong-horse-0"}, hdr()), 401,
		auditWant{action: "auth.login", actorType: "user", actorID: "-", targetType: "auth", result: "failure"})
	keep("wrong-horse-0")
	r := do("POST", "/auth/user/emailpass", map[string]any{"email": "a@act.test", "password": pw}, hdr())
	tr.check(t, "login", r, 200, user("auth.login", uid, "auth", ""))
	tok2, _ := r.JSON["token"].(string)
	keep(tok2)
	r = do("POST", "/auth/session", nil, bearer(tok2))
	tr.check(t, "session create", r, 200, user("auth.session.create", uid, "auth", ""))
	var cookie string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "connect.sid" {
			cookie = c.Name + "=" + c.Value
			keep(c.Value)
		}
	}
	tr.check(t, "session destroy", do("DELETE", "/auth/session", nil, hdr("Cookie", cookie)), 200, user("auth.session.destroy", uid, "auth", ""))
	r = do("POST", "/auth/token/refresh", nil, bearer(tok))
	tr.check(t, "refresh", r, 200, user("auth.token.refresh", uid, "auth", ""))
	if s, _ := r.JSON["token"].(string); s != "" {
		keep(s)
	}

	// API keys: the revocation's event is written in its transaction (one
	// row, completed with the status afterwards, not a second one).
	r = do("POST", "/admin/api-keys", map[string]any{"title": "ci", "type": "secret"}, bearer(tok))
	keyID := idOf(t, "key create", r, "api_key")
	keep(r.JSON["api_key"].(map[string]any)["token"].(string))
	tr.check(t, "key create", r, 200, user("api_key.create", uid, "api_key", keyID))
	tr.check(t, "key revoke", do("POST", "/admin/api-keys/"+keyID+"/revoke", map[string]any{}, bearer(tok)), 200, user("api_key.revoke", uid, "api_key", keyID))
	tr.check(t, "key delete", do("DELETE", "/admin/api-keys/"+keyID, nil, bearer(tok)), 200, user("api_key.delete", uid, "api_key", keyID))

	// Sales channels.
	r = do("POST", "/admin/sales-channels", map[string]any{"name": "Web"}, bearer(tok))
	scID := idOf(t, "channel create", r, "sales_channel")
	tr.check(t, "channel create", r, 200, user("sales_channel.create", uid, "sales_channel", ""))
	tr.check(t, "channel update", do("POST", "/admin/sales-channels/"+scID, map[string]any{"name": "Web 2"}, bearer(tok)), 200,
		user("sales_channel.update", uid, "sales_channel", scID))
	tr.check(t, "channel delete", do("DELETE", "/admin/sales-channels/"+scID, nil, bearer(tok)), 200, user("sales_channel.delete", uid, "sales_channel", scID))

	// Roles, policies, assignments.
	r = do("POST", "/admin/rbac/policies", map[string]any{"key": "report:export", "resource": "report", "operation": "export"}, bearer(tok))
	pid := idOf(t, "policy create", r, "policy")
	tr.check(t, "policy create", r, 200, user("rbac_policy.create", uid, "rbac_policy", pid))
	tr.check(t, "policy update", do("POST", "/admin/rbac/policies/"+pid, map[string]any{"name": "Export"}, bearer(tok)), 200,
		user("rbac_policy.update", uid, "rbac_policy", pid))
	r = do("POST", "/admin/rbac/roles", map[string]any{"name": "editors", "policy_ids": []string{pid}}, bearer(tok))
	rid := idOf(t, "role create", r, "role")
	tr.check(t, "role create", r, 200, user("rbac_role.create", uid, "rbac_role", rid))
	tr.check(t, "role update", do("POST", "/admin/rbac/roles/"+rid, map[string]any{"description": "Edit things"}, bearer(tok)), 200,
		user("rbac_role.update", uid, "rbac_role", rid))

	// Invites and the user an invite creates.
	r = do("POST", "/admin/invites", map[string]any{"email": "new@act.test"}, bearer(tok))
	invID := idOf(t, "invite create", r, "invite")
	itok := r.JSON["invite"].(map[string]any)["token"].(string)
	keep(itok)
	tr.check(t, "invite create", r, 200, user("invite.create", uid, "invite", invID))
	r = do("POST", "/auth/user/emailpass/register", map[string]any{"email": "new@act.test", "password": pw}, hdr())
	tr.check(t, "register", r, 200, auditWant{action: "auth.register", actorType: "user", targetType: "auth"})
	reg, _ := r.JSON["token"].(string)
	keep(reg)
	r = do("POST", "/admin/invites/accept?token="+url.QueryEscape(itok), map[string]any{}, bearer(reg))
	newUID := idOf(t, "accept", r, "user")
	if e := tr.check(t, "accept", r, 200, user("user.create", "*", "user", newUID)); e.Details["invite_id"] != invID {
		t.Errorf("accept: details %v, want invite_id %s", e.Details, invID)
	}
	tr.check(t, "user update", do("POST", "/admin/users/"+newUID, map[string]any{"first_name": "New"}, bearer(tok)), 200, user("user.update", uid, "user", newUID))
	tr.check(t, "role assign", do("POST", "/admin/rbac/roles/"+rid+"/users", map[string]any{"users": []string{newUID}}, bearer(tok)), 200,
		user("rbac_role.users.assign", uid, "rbac_role", rid))
	tr.check(t, "role unassign", do("DELETE", "/admin/rbac/roles/"+rid+"/users", map[string]any{"users": []string{newUID}}, bearer(tok)), 200,
		user("rbac_role.users.unassign", uid, "rbac_role", rid))
	tr.check(t, "role delete", do("DELETE", "/admin/rbac/roles/"+rid, nil, bearer(tok)), 200, user("rbac_role.delete", uid, "rbac_role", rid))
	tr.check(t, "policy delete", do("DELETE", "/admin/rbac/policies/"+pid, nil, bearer(tok)), 200, user("rbac_policy.delete", uid, "rbac_policy", pid))
	r = do("POST", "/admin/invites", map[string]any{"email": "later@act.test"}, bearer(tok))
	inv2 := idOf(t, "second invite", r, "invite")
	keep(r.JSON["invite"].(map[string]any)["token"].(string))
	tr.check(t, "second invite", r, 200, user("invite.create", uid, "invite", inv2))
	tr.check(t, "invite delete", do("DELETE", "/admin/invites/"+inv2, nil, bearer(tok)), 200, user("invite.delete", uid, "invite", inv2))

	// Webhooks.
	r = do("POST", "/admin/webhooks", map[string]any{"url": "https://hooks.act.test/x"}, bearer(tok))
	whID := idOf(t, "webhook create", r, "webhook")
	keep(r.JSON["webhook"].(map[string]any)["secret"].(string))
	tr.check(t, "webhook create", r, 200, user("webhook.create", uid, "webhook", whID))
	tr.check(t, "webhook update", do("POST", "/admin/webhooks/"+whID, map[string]any{"description": "CRM"}, bearer(tok)), 200,
		user("webhook.update", uid, "webhook", whID))
	tr.check(t, "webhook delete", do("DELETE", "/admin/webhooks/"+whID, nil, bearer(tok)), 200, user("webhook.delete", uid, "webhook", whID))

	// MFA, as the new user.
	r = do("POST", "/auth/user/emailpass", map[string]any{"email": "new@act.test", "password": pw}, hdr())
	tr.check(t, "new user login", r, 200, user("auth.login", newUID, "auth", ""))
	ntok, _ := r.JSON["token"].(string)
	keep(ntok)
	r = do("POST", "/auth/mfa/factors", map[string]any{"provider": "totp"}, bearer(ntok))
	fid := idOf(t, "mfa enroll", r, "mfa_factor")
	secret, _ := r.JSON["secret"].(string)
	keep(secret)
	tr.check(t, "mfa enroll", r, 200, user("auth.mfa.factor.enroll", newUID, "auth", fid))
	code, err := totp.GenerateCodeCustom(secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	tr.check(t, "mfa enable", do("POST", "/auth/mfa/factors/"+fid+"/verify", map[string]any{"code": code}, bearer(ntok)), 200,
		user("auth.mfa.factor.enable", newUID, "auth", fid))
	r = do("POST", "/auth/mfa/recovery-codes", map[string]any{}, bearer(ntok))
	tr.check(t, "recovery codes", r, 200, user("auth.mfa.recovery_codes.generate", newUID, "auth", ""))
	if codes, _ := r.JSON["recovery_codes"].([]any); len(codes) > 0 {
		for _, c := range codes {
			keep(c.(string))
		}
	} else {
		t.Errorf("recovery codes: no codes in %s", r.Body)
	}
	tr.check(t, "mfa disable", do("DELETE", "/auth/mfa/factors/"+fid, map[string]any{}, bearer(ntok)), 200,
		user("auth.mfa.factor.disable", newUID, "auth", fid))

	// Password reset, requested and completed.
	tr.check(t, "reset request", do("POST", "/auth/user/emailpass/reset-password", map[string]any{"identifier": "new@act.test"}, hdr()), 201,
		auditWant{action: "auth.password_reset.request", actorType: "user", targetType: "auth"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := env.Auth.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := env.DB.Client.Event.Query().Where(event.Name("auth.password_reset")).All(env.Ctx(tn))
	if err != nil || len(evs) != 1 {
		t.Fatalf("reset events = %d, %v; want 1", len(evs), err)
	}
	resetTok, _ := evs[0].Data["token"].(string)
	keep(resetTok, "other-horse-12")
	tr.check(t, "reset complete", do("POST", "/auth/user/emailpass/update", map[string]any{"password": "other-horse-12"}, bearer(resetTok)), 200,
		auditWant{action: "auth.password_reset.complete", actorType: "user", actorID: "*", targetType: "auth"})

	// The admin's own password, then the new user's deletion.
	r = do("POST", "/admin/users/me/password", map[string]any{"current_password": pw, "new_password": "fresh-horse-31"}, bearer(tok))
	tr.check(t, "password change", r, 200, user("user.password.change", uid, "user", uid))
	tok, _ = r.JSON["token"].(string)
	keep(tok, "fresh-horse-31")
	tr.check(t, "user delete", do("DELETE", "/admin/users/"+newUID, nil, bearer(tok)), 200, user("user.delete", uid, "user", newUID))

	// Customers, through the store.
	r = do("POST", "/admin/sales-channels", map[string]any{"name": "Shop"}, bearer(tok))
	shop := idOf(t, "shop channel", r, "sales_channel")
	tr.check(t, "shop channel", r, 200, user("sales_channel.create", uid, "sales_channel", ""))
	r = do("POST", "/admin/api-keys", map[string]any{"title": "store", "type": "publishable"}, bearer(tok))
	pkID := idOf(t, "publishable key", r, "api_key")
	pk := r.JSON["api_key"].(map[string]any)["token"].(string)
	tr.check(t, "publishable key", r, 200, user("api_key.create", uid, "api_key", pkID))
	tr.check(t, "link channel", do("POST", "/admin/api-keys/"+pkID+"/sales-channels", map[string]any{"add": []string{shop}}, bearer(tok)), 200,
		user("api_key.sales_channels.update", uid, "api_key", pkID))
	r = do("POST", "/auth/customer/emailpass/register", map[string]any{"email": "c@act.test", "password": pw}, hdr())
	tr.check(t, "customer register", r, 200, auditWant{action: "auth.register", actorType: "customer"})
	creg, _ := r.JSON["token"].(string)
	keep(creg)
	r = do("POST", "/store/customers", map[string]any{"email": "c@act.test"}, hdr("x-publishable-api-key", pk, "authorization", "Bearer "+creg))
	cusID := idOf(t, "customer create", r, "customer")
	tr.check(t, "customer create", r, 200, auditWant{action: "customer.create", actorType: "customer", actorID: "*", targetType: "customer", targetID: cusID})
	r = do("POST", "/auth/customer/emailpass", map[string]any{"email": "c@act.test", "password": pw}, hdr())
	tr.check(t, "customer login", r, 200, auditWant{action: "auth.login", actorType: "customer", actorID: cusID})
	ctok, _ := r.JSON["token"].(string)
	keep(ctok)
	tr.check(t, "customer update", do("POST", "/store/customers/me", map[string]any{"first_name": "C"}, hdr("x-publishable-api-key", pk, "authorization", "Bearer "+ctok)), 200,
		auditWant{action: "customer.update", actorType: "customer", actorID: cusID, targetType: "customer"})
	cust := hdr("x-publishable-api-key", pk, "authorization", "Bearer "+ctok)
	r = do("POST", "/store/customers/me/addresses", map[string]any{"city": "Oslo"}, cust)
	addrs, _ := r.JSON["customer"].(map[string]any)["addresses"].([]any)
	if len(addrs) != 1 {
		t.Fatalf("address create: %d %s", r.Status, r.Body)
	}
	addrID, _ := addrs[0].(map[string]any)["id"].(string)
	tr.check(t, "address create", r, 200, auditWant{action: "customer.address.create", actorType: "customer", actorID: cusID, targetType: "customer_address", targetID: addrID})
	tr.check(t, "address update", do("POST", "/store/customers/me/addresses/"+addrID, map[string]any{"city": "Bergen"}, cust), 200,
		auditWant{action: "customer.address.update", actorType: "customer", actorID: cusID, targetType: "customer_address", targetID: addrID})
	tr.check(t, "address delete", do("DELETE", "/store/customers/me/addresses/"+addrID, nil, cust), 200,
		auditWant{action: "customer.address.delete", actorType: "customer", actorID: cusID, targetType: "customer_address", targetID: addrID})

	// Sign out everywhere.
	tr.check(t, "logout", do("POST", "/auth/logout-all", nil, bearer(tok)), 200, user("auth.logout", uid, "auth", ""))

	// Platform operations go to the platform's trail.
	pt := &auditTrail{log: log, ctx: context.Background(), seen: map[string]bool{}}
	pt.fresh(t)
	op := func(method, path string, body any) *apitest.Response {
		return env.Do(t, method, path, body, "authorization", "Bearer "+env.PlatformKey, "User-Agent", "audit-actions")
	}
	r = op("POST", "/platform/tenants", map[string]any{"slug": "act3", "name": "Act 3"})
	t3 := idOf(t, "tenant create", r, "tenant")
	pt.check(t, "tenant create", r, 200, auditWant{action: "tenant.create", targetType: "tenant"})
	pt.check(t, "tenant suspend", op("POST", "/platform/tenants/"+t3+"/suspend", nil), 200, auditWant{action: "tenant.suspend", targetType: "tenant", targetID: t3})
	pt.check(t, "tenant resume", op("POST", "/platform/tenants/"+t3+"/resume", nil), 200, auditWant{action: "tenant.resume", targetType: "tenant", targetID: t3})
	pt.check(t, "domain add", op("POST", "/platform/tenants/"+t3+"/domains", map[string]any{"host": "login.act3.test"}), 200,
		auditWant{action: "tenant.domain.add", targetType: "tenant", targetID: t3})
	pt.check(t, "domain remove", op("DELETE", "/platform/tenants/"+t3+"/domains", map[string]any{"host": "login.act3.test"}), 200,
		auditWant{action: "tenant.domain.remove", targetType: "tenant", targetID: t3})
	pt.check(t, "tenant delete", op("DELETE", "/platform/tenants/"+t3, nil), 0, auditWant{action: "tenant.delete", targetType: "tenant", targetID: t3})
	keep(env.PlatformKey)

	// No event carries a secret.
	for _, trail := range []*auditTrail{tr, pt} {
		es, _, err := log.Find(trail.ctx, audit.Filter{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(es)
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("the audit trail contains a secret (%.6s…)", s)
			}
		}
	}

	// Filters, over HTTP.
	count := func(q string) any {
		t.Helper()
		r := do("GET", "/admin/audit-events?"+q, nil, bearer(tok2))
		if r.Status != 200 {
			t.Fatalf("GET /admin/audit-events?%s = %d %s", q, r.Status, r.Body)
		}
		return r.JSON["count"]
	}
	r = do("POST", "/auth/user/emailpass", map[string]any{"email": "a@act.test", "password": "fresh-horse-31"}, hdr())
	tok2, _ = r.JSON["token"].(string)
	if n := count("action=api_key.revoke"); n != float64(1) {
		t.Errorf("filter action=api_key.revoke: count %v, want 1", n)
	}
	if n := count("action=" + url.QueryEscape("POST /admin/api-keys/:id/revoke")); n != float64(1) {
		t.Errorf("filter by the route of api_key.revoke: count %v, want 1", n)
	}
	if n := count("target_id=" + keyID); n != float64(3) {
		t.Errorf("filter target_id: count %v, want 3 (create, revoke, delete)", n)
	}
	if n := count("actor_id=" + newUID + "&action=auth.mfa.factor.enable"); n != float64(1) {
		t.Errorf("filter actor_id and action: count %v, want 1", n)
	}
	if n := count("created_at[$gte]=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))); n != float64(0) {
		t.Errorf("filter created_at in the future: count %v, want 0", n)
	}
	if n := count("created_at[$lte]=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)) + "&action=user.delete"); n != float64(1) {
		t.Errorf("filter created_at and action: count %v, want 1", n)
	}

	// Tenant B sees none of tenant A's events.
	b := env.Tenant(t, "act2")
	_, btok := env.Admin(t, b, "b@act2.test", pw)
	o := env.Do(t, "GET", "/admin/audit-events?limit=1000", nil, "x-tenant-id", "act2", "authorization", "Bearer "+btok)
	if o.Status != 200 || strings.Contains(string(o.Body), uid) || strings.Contains(string(o.Body), keyID) {
		t.Errorf("tenant act2's trail = %d %s, want none of act's events", o.Status, o.Body)
	}
	if x := env.Do(t, "GET", "/admin/audit-events?limit=1000", nil, "x-tenant-id", "act", "authorization", "Bearer "+btok); x.Status != 401 {
		t.Errorf("act2's token on act's trail = %d, want 401", x.Status)
	}
}

// TestAuditActionNames: every state-changing admin route has a semantic
// audit action.
func TestAuditActionNames(t *testing.T) {
	for route := range admin.Policies {
		if strings.HasPrefix(route, "GET ") {
			continue
		}
		if a := admin.AuditAction(route); a == route || !strings.Contains(a, ".") {
			t.Errorf("AuditAction(%q) = %q, want a semantic name", route, a)
		}
	}
}
