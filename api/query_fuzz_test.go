package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
)

// FuzzListQuery sends arbitrary query strings to the lists that read
// filters the way the js-sdk writes them (id[0]=…, created_at[$gt]=…): each
// answer is a 200 or Medusa's 400 invalid_data, never a 500.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"id%5B0%5D=a&id%5B1%5D=b", "created_at%5B%24gt%5D=2020-01-01", "limit=1&limit=2", "order=-email",
		"%24or%5B0%5D%5Bemail%5D=x", "foo=1", "offset=99999999999999999999", "limit=-1", "q=%00",
		"with_deleted=maybe", "deleted_at%5B%24lt%5D=x", "created_at=", "id%5B99999999999%5D=x",
		"name%5B%5D=a&name=b", "created_at.%24gt=2020-01-01", "fields=*x&sales_channel_id%5B0%5D=sc_1", "email=%ff", "id%5B0%5D=%c3%28",
	} {
		f.Add(seed)
	}
	env := apitest.New(f)
	tn := env.Tenant(f, "fuzz")
	_, tok := env.Admin(f, tn, "admin@fuzz.test", "correct-horse-9")
	paths := []string{"/admin/users", "/admin/invites", "/admin/api-keys", "/admin/sales-channels",
		"/admin/rbac/roles", "/admin/rbac/policies/assignable", "/admin/users/me"}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsAny(raw, "# \t\r\n") {
			return // not one query string
		}
		if _, err := url.ParseRequestURI("/x?" + raw); err != nil {
			return
		}
		for _, p := range paths {
			r := env.Do(t, "GET", p+"?"+raw, nil, "x-tenant-id", tn.Slug, "authorization", "Bearer "+tok)
			switch {
			case r.Status == 200:
			case r.Status == 400 && r.JSON["type"] == "invalid_data":
			default:
				t.Fatalf("GET %s?%s = %d %s", p, raw, r.Status, r.Body)
			}
		}
	})
}

// FuzzAddressBody sends arbitrary bodies to a customer's address routes:
// each answer is a 200 or Medusa's 400 invalid_data (404 for an update of
// an address that is gone), never a 500.
func FuzzAddressBody(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"city":"Oslo","is_default_shipping":true}`, `{"city":5}`, `{"metadata":[1]}`, `{"metadata":null,"phone":null}`,
		`{"is_default_billing":"yes"}`, `[]`, `null`, `{"street":"x"}`, `{"address_1":"` + strings.Repeat("x", 2000) + `"}`,
		`{"city":"a","city":"b"}`, `{"city":"\u0000"}`, `{"city":"\\u0000"}`, "{\"city\":\"\xff\"}", `{"metadata":{"a":{"b":[1,{"c":null}]}}}`, `{`, `"x"`,
	} {
		f.Add(seed)
	}
	env := apitest.New(f)
	tn := env.Tenant(f, "fuzz")
	_, tok := env.Admin(f, tn, "admin@fuzz.test", "correct-horse-9")
	admin := []string{"x-tenant-id", tn.Slug, "authorization", "Bearer " + tok}
	k := env.Do(f, "POST", "/admin/api-keys", map[string]any{"title": "pk", "type": "publishable"}, admin...)
	pk, _ := k.JSON["api_key"].(map[string]any)["token"].(string)
	cred := map[string]any{"email": "c@fuzz.test", "password": "correct-horse-9"}
	reg, _ := env.Do(f, "POST", "/auth/customer/emailpass/register", cred, "x-tenant-id", tn.Slug).JSON["token"].(string)
	if r := env.Do(f, "POST", "/store/customers", map[string]any{"email": "c@fuzz.test"}, "x-tenant-id", tn.Slug, "x-publishable-api-key", pk, "authorization", "Bearer "+reg); r.Status != 200 {
		f.Fatalf("create customer: %d %s", r.Status, r.Body)
	}
	ctok, _ := env.Do(f, "POST", "/auth/customer/emailpass", cred, "x-tenant-id", tn.Slug).JSON["token"].(string)
	cust := []string{"x-tenant-id", tn.Slug, "x-publishable-api-key", pk, "authorization", "Bearer " + ctok, "content-type", "application/json"}
	first := env.Do(f, "POST", "/store/customers/me/addresses", map[string]any{"city": "Oslo"}, cust...)
	addrs, _ := first.JSON["customer"].(map[string]any)["addresses"].([]any)
	if len(addrs) != 1 {
		f.Fatalf("first address: %d %s", first.Status, first.Body)
	}
	id, _ := addrs[0].(map[string]any)["id"].(string)
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range []string{"/store/customers/me/addresses", "/store/customers/me/addresses/" + id} {
			r := env.Do(t, "POST", p, []byte(body), cust...)
			switch {
			case r.Status == 200:
			case r.Status == 400 && r.JSON["type"] == "invalid_data":
			default:
				t.Fatalf("POST %s %q = %d %s", p, body, r.Status, r.Body)
			}
		}
	})
}
