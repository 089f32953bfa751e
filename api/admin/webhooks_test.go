package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/webhooks"
)

// hookReceiver records deliveries and answers with status.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	bodies [][]byte
	hdrs   []http.Header
}

func newHookReceiver(t *testing.T, status int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.hdrs = append(r.hdrs, req.Header.Clone())
		code := r.status
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func webhookOf(t *testing.T, what string, r *apitest.Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s = %d %s, want 200", what, r.Status, r.Body)
	}
	w, ok := r.JSON["webhook"].(map[string]any)
	if !ok {
		t.Fatalf("%s = %s, want {webhook}", what, r.Body)
	}
	return w
}

func TestWebhooksCRUDAndSecretShownOnce(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	_, token := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return env.Do(t, method, "/admin"+path, body, "x-tenant-id", "acme", "authorization", "Bearer "+token)
	}
	created := webhookOf(t, "create", do("POST", "/webhooks", map[string]any{
		"url": "https://hooks.acme.test/gatehouse", "description": "CRM", "event_types": []string{"auth.password_reset"},
	}))
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, webhooks.SecretPrefix) {
		t.Fatalf("create: secret = %q, want whsec_…", secret)
	}
	id := created["id"].(string)
	if !strings.HasPrefix(id, "wh_") || created["url"] != "https://hooks.acme.test/gatehouse" || created["enabled"] != true ||
		created["description"] != "CRM" {
		t.Errorf("create = %v", created)
	}
	for _, r := range []*apitest.Response{do("GET", "/webhooks/"+id, nil), do("GET", "/webhooks", nil),
		do("POST", "/webhooks/"+id, map[string]any{"description": "CRM (prod)"})} {
		if r.Status != http.StatusOK {
			t.Fatalf("= %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), `"secret"`) {
			t.Errorf("a later response shows the secret: %s", r.Body)
		}
	}
	list := do("GET", "/webhooks?limit=5", nil)
	if list.JSON["count"] != float64(1) || list.JSON["offset"] != float64(0) || list.JSON["limit"] != float64(5) ||
		len(list.JSON["webhooks"].([]any)) != 1 {
		t.Errorf("list = %s, want {webhooks: [1], count: 1, offset: 0, limit: 5}", list.Body)
	}
	upd := webhookOf(t, "update", do("POST", "/webhooks/"+id, map[string]any{"enabled": false, "event_types": []string{"*"}}))
	if upd["enabled"] != false || upd["description"] != "CRM (prod)" || upd["event_types"].([]any)[0] != "*" {
		t.Errorf("update = %v", upd)
	}

	bad := []struct {
		name string
		body any
	}{
		{"ftp url", map[string]any{"url": "ftp://hooks.acme.test/x"}},
		{"no scheme", map[string]any{"url": "hooks.acme.test/x"}},
		{"javascript", map[string]any{"url": "javascript:alert(1)"}},
		{"missing url", map[string]any{"description": "x"}},
		{"unknown field", map[string]any{"url": "https://hooks.acme.test/x", "secret": "mine"}},
		{"bad event type", map[string]any{"url": "https://hooks.acme.test/x", "event_types": []string{"Not An Event"}}},
		{"no event types", map[string]any{"url": "https://hooks.acme.test/x", "event_types": []string{}}},
	}
	for _, b := range bad {
		if r := do("POST", "/webhooks", b.body); r.Status != http.StatusBadRequest || r.JSON["type"] != "invalid_data" {
			t.Errorf("create with %s = %d %s, want 400 invalid_data", b.name, r.Status, r.Body)
		}
	}
	if r := do("POST", "/webhooks/"+id, map[string]any{"url": "gopher://x"}); r.Status != http.StatusBadRequest {
		t.Errorf("update to a gopher URL = %d, want 400", r.Status)
	}

	if r := do("DELETE", "/webhooks/"+id, nil); r.Status != http.StatusOK || r.JSON["object"] != "webhook" || r.JSON["deleted"] != true {
		t.Errorf("delete = %d %s", r.Status, r.Body)
	}
	if r := do("GET", "/webhooks/"+id, nil); r.Status != http.StatusNotFound || r.JSON["type"] != "not_found" {
		t.Errorf("get after delete = %d %s, want 404 not_found", r.Status, r.Body)
	}
	// The trail records the change, and no body (so never the secret).
	audit := do("GET", "/audit-events?action=POST%20/admin/webhooks", nil)
	if audit.JSON["count"] != float64(len(bad)+1) || strings.Contains(string(audit.Body), secret) {
		t.Errorf("audit events for POST /admin/webhooks = %v, want %d without the secret", audit.JSON["count"], len(bad)+1)
	}
}

func TestWebhookDeliveriesOverHTTP(t *testing.T) {
	env := apitest.New(t)
	acme := env.Tenant(t, "acme")
	_, token := env.Admin(t, acme, "admin@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return env.Do(t, method, "/admin"+path, body, "x-tenant-id", "acme", "authorization", "Bearer "+token)
	}
	ok := newHookReceiver(t, http.StatusOK)
	failing := newHookReceiver(t, http.StatusInternalServerError)
	good := webhookOf(t, "create", do("POST", "/webhooks", map[string]any{"url": ok.URL + "/hooks"}))
	flaky := webhookOf(t, "create", do("POST", "/webhooks", map[string]any{"url": failing.URL + "/hooks"}))
	secret := good["secret"].(string)

	// A password reset writes auth.password_reset to the outbox…
	if r := env.Do(t, "POST", "/auth/user/emailpass/reset-password", map[string]any{"identifier": "admin@acme.test"},
		"x-tenant-id", "acme"); r.Status != http.StatusCreated {
		t.Fatalf("reset-password = %d %s", r.Status, r.Body)
	}
	// The reset token is made after the response (no timing oracle).
	if err := env.Auth.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	// …which the dispatcher delivers, signed.
	d := env.Webhooks.NewDispatcher(webhooks.DispatcherOptions{})
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ok.count() != 1 || failing.count() != 1 {
		t.Fatalf("receivers got %d and %d, want 1 and 1", ok.count(), failing.count())
	}
	h := ok.hdrs[0]
	if err := webhooks.Verify(secret, h.Get(webhooks.HeaderTimestamp), h.Get(webhooks.HeaderSignature), ok.bodies[0], time.Now(), 5*time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
	var body struct {
		Type     string         `json:"type"`
		TenantID string         `json:"tenant_id"`
		Data     map[string]any `json:"data"`
	}
	if err := json.Unmarshal(ok.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "auth.password_reset" || body.TenantID != acme.ID || body.Data["entity_id"] != "admin@acme.test" || body.Data["token"] == "" {
		t.Errorf("payload = %+v", body)
	}

	goodID, flakyID := good["id"].(string), flaky["id"].(string)
	dels := do("GET", "/webhooks/"+goodID+"/deliveries", nil)
	list, _ := dels.JSON["deliveries"].([]any)
	if dels.Status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["status"] != "succeeded" {
		t.Fatalf("deliveries of the good webhook = %d %s", dels.Status, dels.Body)
	}
	dels = do("GET", "/webhooks/"+flakyID+"/deliveries?status=pending", nil)
	list, _ = dels.JSON["deliveries"].([]any)
	if len(list) != 1 {
		t.Fatalf("pending deliveries of the failing webhook = %s", dels.Body)
	}
	dl := list[0].(map[string]any)
	if dl["attempts"] != float64(1) || dl["last_status_code"] != float64(500) || dl["next_attempt_at"] == nil {
		t.Errorf("failed delivery = %v", dl)
	}
	dlID := dl["id"].(string)

	// Disabled meanwhile, a retried delivery dies and is listed as dead.
	webhookOf(t, "disable", do("POST", "/webhooks/"+flakyID, map[string]any{"enabled": false}))
	if r := do("POST", "/webhooks/"+flakyID+"/deliveries/"+dlID+"/retry", nil); r.Status != http.StatusOK {
		t.Fatalf("retry = %d %s", r.Status, r.Body)
	}
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	dead := do("GET", "/webhooks/"+flakyID+"/deliveries?status=dead", nil)
	if list, _ := dead.JSON["deliveries"].([]any); dead.JSON["count"] != float64(1) || len(list) != 1 ||
		list[0].(map[string]any)["last_error"] != "the webhook is disabled" || list[0].(map[string]any)["next_attempt_at"] != nil {
		t.Fatalf("dead deliveries = %s", dead.Body)
	}
	if r := do("GET", "/webhooks/"+flakyID+"/deliveries?status=lost", nil); r.Status != http.StatusBadRequest {
		t.Errorf("status=lost = %d, want 400", r.Status)
	}
	// Fixed and re-enabled, a manual retry delivers it.
	webhookOf(t, "fix", do("POST", "/webhooks/"+flakyID, map[string]any{"enabled": true, "url": ok.URL + "/fixed"}))
	r := do("POST", "/webhooks/"+flakyID+"/deliveries/"+dlID+"/retry", nil)
	if r.Status != http.StatusOK || r.JSON["delivery"].(map[string]any)["status"] != "pending" {
		t.Fatalf("retry = %d %s", r.Status, r.Body)
	}
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ok.count() != 2 {
		t.Errorf("the fixed endpoint got %d deliveries, want 2", ok.count())
	}
	if r := do("POST", "/webhooks/"+flakyID+"/deliveries/whdel_nope/retry", nil); r.Status != http.StatusNotFound {
		t.Errorf("retry of an unknown delivery = %d, want 404", r.Status)
	}
}

// TestWebhooksTenantIsolation: tenant B's admin can neither see nor touch
// tenant A's webhooks or deliveries; every attempt is a 404.
func TestWebhooksTenantIsolation(t *testing.T) {
	env := apitest.New(t)
	a := env.Tenant(t, "acme")
	b := env.Tenant(t, "shop2")
	_, tokA := env.Admin(t, a, "admin@acme.test", "correct-horse-9")
	_, tokB := env.Admin(t, b, "admin@shop2.test", "correct-horse-9")
	as := func(slug, tok, method, path string, body any) *apitest.Response {
		t.Helper()
		return env.Do(t, method, "/admin"+path, body, "x-tenant-id", slug, "authorization", "Bearer "+tok)
	}
	rcv := newHookReceiver(t, http.StatusInternalServerError)
	w := webhookOf(t, "create", as("acme", tokA, "POST", "/webhooks", map[string]any{"url": rcv.URL}))
	id := w["id"].(string)
	if r := env.Do(t, "POST", "/auth/user/emailpass/reset-password", map[string]any{"identifier": "admin@acme.test"}, "x-tenant-id", "acme"); r.Status != http.StatusCreated {
		t.Fatal(r.Status)
	}
	if err := env.Auth.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Webhooks.NewDispatcher(webhooks.DispatcherOptions{}).RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	dels := as("acme", tokA, "GET", "/webhooks/"+id+"/deliveries", nil)
	dlID := dels.JSON["deliveries"].([]any)[0].(map[string]any)["id"].(string)

	for _, c := range []struct{ method, path string }{
		{"GET", "/webhooks/" + id},
		{"POST", "/webhooks/" + id},
		{"DELETE", "/webhooks/" + id},
		{"GET", "/webhooks/" + id + "/deliveries"},
		{"POST", "/webhooks/" + id + "/deliveries/" + dlID + "/retry"},
	} {
		var body any
		if c.method == "POST" && !strings.HasSuffix(c.path, "/retry") {
			body = map[string]any{"url": "https://evil.test/"}
		}
		if r := as("shop2", tokB, c.method, c.path, body); r.Status != http.StatusNotFound {
			t.Errorf("tenant B %s %s = %d %s, want 404", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := as("shop2", tokB, "GET", "/webhooks", nil); r.JSON["count"] != float64(0) {
		t.Errorf("tenant B lists %v webhooks, want 0", r.JSON["count"])
	}
	// A's token does not work in B either (401/404, never A's data).
	if r := as("shop2", tokA, "GET", "/webhooks/"+id, nil); r.Status == http.StatusOK {
		t.Errorf("A's token on B's host = %d %s", r.Status, r.Body)
	}
	got := webhookOf(t, "A's webhook afterwards", as("acme", tokA, "GET", "/webhooks/"+id, nil))
	if got["url"] != rcv.URL {
		t.Errorf("A's webhook changed: %v", got)
	}
}
