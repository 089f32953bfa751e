package admin_test

import (
	"context"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/tenants"
)

// TestPartnerKeyChannelScope: a secret key limited to sales channels (the
// tenant enables partner_keys) may name only its own channels, and lists and
// reads only those.
func TestPartnerKeyChannelScope(t *testing.T) {
	env := apitest.New(t)
	tn, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "partner", Name: "P", Settings: map[string]any{"partner_keys": true}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := env.Admin(t, tn, "admin@partner.test", "correct-horse-9")
	mine := mkChannel(t, env, tn, tok, "mine")
	other := mkChannel(t, env, tn, tok, "other")
	body := wantStatus(t, "create partner key", env.Do(t, "POST", "/admin/api-keys",
		map[string]any{"title": "partner", "type": "secret", "sales_channel_ids": []string{mine}}, as(tn, tok)...), 200)
	raw, _ := obj(t, body, "api_key")["token"].(string)
	key := basic(tn, raw)
	unlimitedID, unlimited := mkKey(t, env, tn, tok, "backend", "secret")
	_ = unlimitedID

	denied := map[string]any{"type": "not_allowed", "message": "API key is not allowed to access sales channel " + other}
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		want    int
	}{
		{"own channel by path", "GET", "/admin/sales-channels/" + mine, nil, nil, 200},
		{"other channel by path", "GET", "/admin/sales-channels/" + other, nil, nil, 403},
		{"update other channel", "POST", "/admin/sales-channels/" + other, map[string]any{"name": "x"}, nil, 403},
		{"other channel in the query", "GET", "/admin/users?sales_channel_id=" + other, nil, nil, 403},
		{"own channel in the query", "GET", "/admin/users?sales_channel_id=" + mine, nil, nil, 200},
		{"other channel second in the query", "GET", "/admin/users?sales_channel_id=" + mine + "&sales_channel_id=" + other, nil, nil, 403},
		{"other channel indexed in the query", "GET", "/admin/users?sales_channel_id%5B0%5D=" + mine + "&sales_channel_id%5B1%5D=" + other, nil, nil, 403},
		{"own channel indexed in the query", "GET", "/admin/users?sales_channel_id%5B0%5D=" + mine, nil, nil, 200},
		{"other channel in the header", "GET", "/admin/users", nil, []string{"x-sales-channel-id", other}, 403},
		{"other channel in the body", "POST", "/admin/api-keys", map[string]any{"title": "t", "type": "publishable", "sales_channel_ids": []string{other}}, nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Do(t, tt.method, tt.path, tt.body, append(append([]string{}, key...), tt.headers...)...)
			if r.Status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.want)
			}
			if tt.want == 403 && (r.JSON["type"] != denied["type"] || r.JSON["message"] != denied["message"]) {
				t.Errorf("%s %s body = %s, want %v", tt.method, tt.path, r.Body, denied)
			}
		})
	}

	list := wantStatus(t, "list channels with the partner key", env.Do(t, "GET", "/admin/sales-channels", nil, key...), 200)
	if chs, _ := list["sales_channels"].([]any); len(chs) != 1 || chs[0].(map[string]any)["id"] != mine || list["count"] != float64(1) {
		t.Errorf("partner key lists %v, want only %s", list, mine)
	}
	// An unlimited secret key and the admin see every channel.
	for name, h := range map[string][]string{"unlimited key": basic(tn, unlimited), "admin": as(tn, tok)} {
		all := wantStatus(t, "list channels as "+name, env.Do(t, "GET", "/admin/sales-channels", nil, h...), 200)
		if all["count"] != float64(2) {
			t.Errorf("%s lists count %v, want 2", name, all["count"])
		}
		wantStatus(t, name+" reads the other channel", env.Do(t, "GET", "/admin/sales-channels/"+other, nil, h...), 200)
	}
}

// TestAPIKeyRevokedAtFilter covers Medusa's revoked_at filters.
func TestAPIKeyRevokedAtFilter(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "filters")
	_, tok := env.Admin(t, tn, "admin@filters.test", "correct-horse-9")
	live, _ := mkKey(t, env, tn, tok, "live", "secret")
	dead, _ := mkKey(t, env, tn, tok, "dead", "secret")
	wantStatus(t, "revoke", env.Do(t, "POST", "/admin/api-keys/"+dead+"/revoke", map[string]any{}, as(tn, tok)...), 200)
	ids := func(q string) []string {
		t.Helper()
		body := wantStatus(t, "list "+q, env.Do(t, "GET", "/admin/api-keys?"+q, nil, as(tn, tok)...), 200)
		var out []string
		for _, k := range body["api_keys"].([]any) {
			out = append(out, k.(map[string]any)["id"].(string))
		}
		return out
	}
	for q, want := range map[string][]string{
		"revoked_at=null":                      {live},
		"revoked_at[$eq]=null":                 {live},
		"revoked_at[$ne]=null":                 {dead},
		"revoked_at[$gt]=2000-01-01T00:00:00Z": {dead},
		"revoked_at[$lt]=2000-01-01T00:00:00Z": nil,
		"":                                     {live, dead},
	} {
		if got := ids(q); len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
			t.Errorf("GET /admin/api-keys?%s ids = %v, want %v", q, got, want)
		}
	}
	for _, q := range []string{"revoked_at=yesterday", "revoked_at[$gt]=notadate", "revoked_at[$foo]=1"} {
		if r := env.Do(t, "GET", "/admin/api-keys?"+q, nil, as(tn, tok)...); r.Status != 400 || r.JSON["type"] != "invalid_data" {
			t.Errorf("GET /admin/api-keys?%s = %d %s, want 400 invalid_data", q, r.Status, r.Body)
		}
	}
}

// TestPartnerKeyChannelChanges: a partner key's channels are a condition of
// its Casbin decision, so linking, unlinking and disabling a channel take
// effect on the next request; /decisions answers the same as the routes do;
// another tenant cannot touch the key.
func TestPartnerKeyChannelChanges(t *testing.T) {
	env := apitest.New(t)
	tn, err := env.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "partner", Name: "P", Settings: map[string]any{"partner_keys": true}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := env.Admin(t, tn, "admin@partner.test", "correct-horse-9")
	mine := mkChannel(t, env, tn, tok, "mine")
	other := mkChannel(t, env, tn, tok, "other")
	body := wantStatus(t, "create partner key", env.Do(t, "POST", "/admin/api-keys",
		map[string]any{"title": "partner", "type": "secret", "sales_channel_ids": []string{mine}}, as(tn, tok)...), 200)
	k := obj(t, body, "api_key")
	id, _ := k["id"].(string)
	raw, _ := k["token"].(string)
	key := basic(tn, raw)
	read := func(ch string) int { return env.Do(t, "GET", "/admin/sales-channels/"+ch, nil, key...).Status }
	decide := func(ch string) *apitest.Response {
		return env.Do(t, "GET", "/decisions", nil, "x-tenant-id", tn.Slug, "Authorization", "Basic "+raw,
			"X-Original-Method", "GET", "X-Original-URI", "/admin/sales-channels/"+ch)
	}
	if got := read(other); got != 403 {
		t.Fatalf("other channel before linking = %d, want 403", got)
	}
	if r := decide(other); r.Status != 403 || r.JSON["message"] != "API key is not allowed to access sales channel "+other {
		t.Errorf("/decisions on the other channel = %d %s, want 403 not_allowed", r.Status, r.Body)
	}
	if r := decide(mine); r.Status != 200 || r.Header.Get("X-Gatehouse-Sales-Channels") != mine {
		t.Errorf("/decisions on its own channel = %d %v, want 200 with X-Gatehouse-Sales-Channels %s", r.Status, r.Header, mine)
	}

	// Tenant B's admin cannot relink tenant A's key.
	tb := env.Tenant(t, "other-tenant", "other.partner.test")
	_, tokB := env.Admin(t, tb, "admin@other.test", "correct-horse-9")
	if r := env.Do(t, "POST", "/admin/api-keys/"+id+"/sales-channels", map[string]any{"add": []string{other}}, as(tb, tokB)...); r.Status != 404 {
		t.Errorf("tenant B links tenant A's key = %d %s, want 404", r.Status, r.Body)
	}
	if got := read(other); got != 403 {
		t.Errorf("other channel after tenant B's attempt = %d, want 403", got)
	}

	wantStatus(t, "link other", env.Do(t, "POST", "/admin/api-keys/"+id+"/sales-channels",
		map[string]any{"add": []string{other}, "remove": []string{mine}}, as(tn, tok)...), 200)
	if got := read(other); got != 200 {
		t.Errorf("other channel after linking = %d, want 200", got)
	}
	if got := read(mine); got != 403 {
		t.Errorf("unlinked channel = %d, want 403", got)
	}
	if r := decide(mine); r.Status != 403 {
		t.Errorf("/decisions on the unlinked channel = %d, want 403", r.Status)
	}

	// A disabled channel admits nothing, yet still limits the key.
	wantStatus(t, "disable other", env.Do(t, "POST", "/admin/sales-channels/"+other, map[string]any{"is_disabled": true}, as(tn, tok)...), 200)
	if got := read(other); got != 403 {
		t.Errorf("disabled channel = %d, want 403", got)
	}
	if got := read(mine); got != 403 {
		t.Errorf("a channel never linked, after the key's only channel was disabled = %d, want 403", got)
	}
	if got := env.Do(t, "GET", "/admin/users", nil, key...).Status; got != 200 {
		t.Errorf("a route naming no channel = %d, want 200 (the key keeps its roles)", got)
	}
}
