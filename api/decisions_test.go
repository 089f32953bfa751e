package api_test

import (
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

// TestDecisions drives /decisions with the header sets real gateways send:
// nginx auth_request (X-Original-Method/-URI, original Host and credentials),
// Traefik forwardAuth (X-Forwarded-Method/-Uri/-Host), and Envoy ext_authz
// over HTTP (the original method and path appended to /decisions).
func TestDecisions(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "gw", "shop.gw.test")
	superID, super := env.Admin(t, tn, "owner@gw.test", "owner-password-1")
	_ = superID
	viewerID, viewer := env.Admin(t, tn, "viewer@gw.test", "viewer-password-1")
	ctx := env.Ctx(tn)
	// Admin (CLI) users start as super admins; make this one a viewer only.
	if err := env.RBAC.AssignRoles(ctx, rbac.UserSubject(superID), rbac.UserSubject(viewerID), []string{"role_viewer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.RBAC.UnassignRoles(ctx, rbac.UserSubject(viewerID), []string{"role_super_admin"}); err != nil {
		t.Fatal(err)
	}
	pkKey, pk, err := env.Auth.CreateAPIKey(ctx, nil, auth.CreateAPIKeyInput{Title: "pk", Type: auth.KeyPublishable})
	if err != nil {
		t.Fatal(err)
	}

	nginx := func(method, uri, cred string) []string {
		h := []string{"Host", "shop.gw.test", "X-Original-Method", method, "X-Original-URI", uri}
		if cred != "" {
			h = append(h, "Authorization", cred)
		}
		return h
	}
	traefik := func(method, uri, cred string) []string {
		h := []string{"X-Forwarded-Method", method, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "gw.localhost", "X-Forwarded-Uri", uri, "X-Forwarded-For", "203.0.113.9"}
		if cred != "" {
			h = append(h, "Authorization", cred)
		}
		return h
	}
	tests := []struct {
		name      string
		method    string
		path      string
		headers   []string
		status    int
		actorType string
		message   string
	}{
		{"nginx, super admin reads users", "GET", "/decisions", nginx("GET", "/admin/users?limit=1", "Bearer "+super), 200, "user", ""},
		{"nginx, viewer reads users", "GET", "/decisions", nginx("GET", "/admin/users", "Bearer "+viewer), 200, "user", ""},
		{"nginx, viewer deletes a user", "GET", "/decisions", nginx("DELETE", "/admin/users/user_x", "Bearer "+viewer), 403, "", "Insufficient permissions. Required policies: user:delete"},
		{"nginx, no credentials", "GET", "/decisions", nginx("GET", "/admin/users", ""), 401, "", "Unauthorized"},
		{"nginx, Medusa product route, viewer reads", "GET", "/decisions", nginx("GET", "/admin/products/prod_1", "Bearer "+viewer), 403, "", "Insufficient permissions. Required policies: product:read"},
		{"nginx, Medusa product route, super admin creates", "GET", "/decisions", nginx("POST", "/admin/products", "Bearer "+super), 200, "user", ""},
		{"nginx, a channel's products (served by Medusa), viewer", "GET", "/decisions", nginx("POST", "/admin/sales-channels/sc_1/products", "Bearer "+viewer), 403, "", "Insufficient permissions. Required policies: sales_channel:update"},
		{"nginx, a channel's products (served by Medusa), super admin", "GET", "/decisions", nginx("POST", "/admin/sales-channels/sc_1/products", "Bearer "+super), 200, "user", ""},
		{"traefik, super admin", "GET", "/decisions", traefik("POST", "/admin/invites", "Bearer "+super), 200, "user", ""},
		{"traefik, tampered token", "GET", "/decisions", traefik("GET", "/admin/users", "Bearer "+super+"x"), 401, "", "Unauthorized"},
		{"traefik, through the /t/ prefix", "GET", "/decisions", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/t/gw/admin/users/me", "Authorization", "Bearer " + viewer}, 200, "user", ""},
		{"envoy, store with a publishable key", "GET", "/decisions/store/customers/me", []string{"x-tenant-id", "gw", "x-publishable-api-key", pk}, 200, "", ""},
		{"envoy, store without a key", "POST", "/decisions/store/customers", []string{"x-tenant-id", "gw"}, 400, "", "Publishable API key required in the request header: x-publishable-api-key. You can manage your keys in settings in the dashboard."},
		{"envoy, auth routes are public", "POST", "/decisions/auth/user/emailpass", []string{"x-tenant-id", "gw"}, 200, "", ""},
		{"unknown tenant", "GET", "/decisions", []string{"Host", "nope.example", "X-Original-Method", "GET", "X-Original-URI", "/admin/users"}, 404, "", "Unknown tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Do(t, tt.method, tt.path, nil, tt.headers...)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			if tt.message != "" && r.JSON["message"] != tt.message {
				t.Errorf("message = %v, want %q", r.JSON["message"], tt.message)
			}
			if tt.status == 200 {
				if got := r.Header.Get("X-Gatehouse-Tenant"); got != tn.ID {
					t.Errorf("X-Gatehouse-Tenant = %q, want %s", got, tn.ID)
				}
				if got := r.Header.Get("X-Gatehouse-Actor-Type"); got != tt.actorType {
					t.Errorf("X-Gatehouse-Actor-Type = %q, want %q", got, tt.actorType)
				}
				if tt.actorType == "user" && r.Header.Get("X-Gatehouse-Actor-Id") == "" {
					t.Errorf("no X-Gatehouse-Actor-Id")
				}
			}
		})
	}

	// A publishable key's channels bound every channel the store request
	// names, in each form a query can name it (the service behind the
	// gateway may read them all, not only the first).
	own, err := env.Channels.CreateChannel(ctx, tenants.ChannelInput{Name: new("Web")})
	if err != nil {
		t.Fatal(err)
	}
	if r := env.Do(t, "POST", "/admin/api-keys/"+pkKey.ID+"/sales-channels", map[string]any{"add": []string{own.ID}},
		"x-tenant-id", "gw", "authorization", "Bearer "+super); r.Status != 200 {
		t.Fatalf("link the key's channel: %d %s", r.Status, r.Body)
	}
	for query, want := range map[string]int{
		"sales_channel_id=" + own.ID:                                                 200,
		"sales_channel_id[]=" + own.ID:                                               200,
		"sales_channel_id=sc_other":                                                  403,
		"sales_channel_id=" + own.ID + "&sales_channel_id=sc_other":                  403,
		"sales_channel_id%5B0%5D=" + own.ID + "&sales_channel_id%5B1%5D=sc_other":    403,
		"sales_channel_id%5B%5D=" + own.ID + "&sales_channel_id%5B%5D=sc_other":      403,
		"limit=1&sales_channel_id%5B1%5D=sc_other&sales_channel_id%5B0%5D=" + own.ID: 403,
	} {
		r := env.Do(t, "GET", "/decisions/store/products?"+query, nil, "x-tenant-id", "gw", "x-publishable-api-key", pk)
		if r.Status != want {
			t.Errorf("store decision ?%s = %d %s, want %d", query, r.Status, r.Body, want)
		}
		if want == 403 && r.JSON["message"] != "Requested sales channel is not part of the publishable key" {
			t.Errorf("store decision ?%s message = %v", query, r.JSON["message"])
		}
	}

	// A token of another tenant is refused there (tenant from the original host).
	other := env.Tenant(t, "other")
	_, otherTok := env.Admin(t, other, "o@other.test", "other-password-1")
	if r := env.Do(t, "GET", "/decisions", nil, nginx("GET", "/admin/users", "Bearer "+otherTok)...); r.Status != 401 {
		t.Errorf("tenant other's token on gw's host = %d, want 401", r.Status)
	}
	// Role removal takes effect on the next decision.
	if _, err := env.RBAC.UnassignRoles(ctx, rbac.UserSubject(viewerID), []string{"role_viewer"}); err != nil {
		t.Fatal(err)
	}
	if r := env.Do(t, "GET", "/decisions", nil, nginx("GET", "/admin/users", "Bearer "+viewer)...); r.Status != 403 || r.JSON["message"] != "Forbidden" {
		t.Errorf("after the viewer lost its role = %d %s, want 403 Forbidden", r.Status, r.Body)
	}
}
