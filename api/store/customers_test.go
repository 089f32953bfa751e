package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/customer"
)

var (
	unauthorizedBody = map[string]any{"message": "Unauthorized"}
	pkRequiredBody   = map[string]any{"type": "not_allowed", "message": "Publishable API key required in the request header: x-publishable-api-key. You can manage your keys in settings in the dashboard."}
	pkInvalidBody    = map[string]any{"type": "not_allowed", "message": "A valid publishable key is required to proceed with the request"}
)

// storeFixture is a tenant with an admin, a sales channel and a publishable
// key linked to it.
type storeFixture struct {
	env   *apitest.Env
	tn    *ent.Tenant
	admin string // admin bearer token
	sc    string
	pk    string
}

func newStoreFixture(t *testing.T, env *apitest.Env, slug string) *storeFixture {
	t.Helper()
	f := &storeFixture{env: env, tn: env.Tenant(t, slug)}
	_, f.admin = env.Admin(t, f.tn, "admin@"+slug+".test", "correct horse 1")
	f.sc = f.channel(t, "Web")
	_, f.pk = f.publishableKey(t, "storefront", f.sc)
	return f
}

// adminDo sends an admin request with the admin's token.
func (f *storeFixture) adminDo(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	r := f.env.Do(t, method, path, body, "x-tenant-id", f.tn.Slug, "Authorization", "Bearer "+f.admin)
	if r.Status != 200 {
		t.Fatalf("admin %s %s = %d %s, want 200", method, path, r.Status, r.Body)
	}
	return r.JSON
}

func (f *storeFixture) channel(t *testing.T, name string) string {
	t.Helper()
	sc, _ := f.adminDo(t, "POST", "/admin/sales-channels", map[string]any{"name": name})["sales_channel"].(map[string]any)
	id, _ := sc["id"].(string)
	if id == "" {
		t.Fatalf("create sales channel %s: no id", name)
	}
	return id
}

// publishableKey creates a publishable key linked to channels.
func (f *storeFixture) publishableKey(t *testing.T, title string, channels ...string) (string, string) {
	t.Helper()
	k, _ := f.adminDo(t, "POST", "/admin/api-keys", map[string]any{"title": title, "type": "publishable"})["api_key"].(map[string]any)
	id, _ := k["id"].(string)
	tok, _ := k["token"].(string)
	if len(channels) > 0 {
		f.adminDo(t, "POST", "/admin/api-keys/"+id+"/sales-channels", map[string]any{"add": channels})
	}
	return id, tok
}

// store sends a /store request with pk ("" for none) and a bearer ("" for none).
func (f *storeFixture) store(t *testing.T, method, path, pk, bearer string, body any) *apitest.Response {
	t.Helper()
	h := []string{"x-tenant-id", f.tn.Slug}
	if pk != "" {
		h = append(h, "x-publishable-api-key", pk)
	}
	if bearer != "" {
		h = append(h, "Authorization", "Bearer "+bearer)
	}
	return f.env.Do(t, method, path, body, h...)
}

// token posts emailpass credentials to /auth/{actor}/emailpass{suffix}.
func (f *storeFixture) token(t *testing.T, actor, suffix, email, pw string) string {
	t.Helper()
	r := f.env.Do(t, "POST", "/auth/"+actor+"/emailpass"+suffix, map[string]any{"email": email, "password": pw}, "x-tenant-id", f.tn.Slug)
	tok, _ := r.JSON["token"].(string)
	if r.Status != 200 || tok == "" {
		t.Fatalf("POST /auth/%s/emailpass%s %s = %d %s", actor, suffix, email, r.Status, r.Body)
	}
	return tok
}

// customers counts tn's customers with email (and has_account when account is set).
func (f *storeFixture) customers(t *testing.T, email string, account ...bool) int {
	t.Helper()
	q := f.env.DB.Customer.Query().Where(customer.Email(email))
	if len(account) > 0 {
		q = q.Where(customer.HasAccount(account[0]))
	}
	n, err := q.Count(f.env.Ctx(f.tn))
	if err != nil {
		t.Fatalf("count customers %s: %v", email, err)
	}
	return n
}

// register registers a customer identity and creates the customer; it returns
// the customer id and a login token with the customer as actor.
func (f *storeFixture) register(t *testing.T, email, pw string) (string, string) {
	t.Helper()
	reg := f.token(t, "customer", "/register", email, pw)
	r := f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": email})
	if r.Status != 200 {
		t.Fatalf("POST /store/customers %s = %d %s", email, r.Status, r.Body)
	}
	id, _ := r.JSON["customer"].(map[string]any)["id"].(string)
	return id, f.token(t, "customer", "", email, pw)
}

func wantBody(t *testing.T, what string, r *apitest.Response, status int, want map[string]any) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status = %d, want %d (body %s)", what, r.Status, status, r.Body)
		return
	}
	if diff := cmp.Diff(want, r.JSON); diff != "" {
		t.Errorf("%s: body mismatch (-want +got):\n%s", what, diff)
	}
}

func TestPublishableKeyCheck(t *testing.T) {
	env := apitest.New(t)
	f := newStoreFixture(t, env, "acme")

	t.Run("missing", func(t *testing.T) {
		// Behaviour 53, before any customer authentication.
		wantBody(t, "GET /store/customers/me without pk", f.store(t, "GET", "/store/customers/me", "", "", nil), 400, pkRequiredBody)
		wantBody(t, "POST /store/customers without pk", f.store(t, "POST", "/store/customers", "", "", map[string]any{}), 400, pkRequiredBody)
		wantBody(t, "empty pk", env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", f.tn.Slug, "x-publishable-api-key", "  "), 400, pkRequiredBody)
	})

	t.Run("invalid", func(t *testing.T) {
		// Behaviour 54.
		for name, pk := range map[string]string{
			"garbage":        "pk_nope",
			"well-formed":    "pk_" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"upper case":     "PK_" + f.pk[3:],
			"comma-joined":   f.pk + "," + f.pk,
			"with a suffix":  f.pk + "0",
			"truncated":      f.pk[:len(f.pk)-1],
			"publishable id": "apk_01",
		} {
			wantBody(t, name+" pk", f.store(t, "GET", "/store/customers/me", pk, "", nil), 400, pkInvalidBody)
		}
		wantBody(t, "multi-valued pk", env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", f.tn.Slug,
			"x-publishable-api-key", f.pk, "x-publishable-api-key", f.pk), 400, pkInvalidBody)
		// The valid key passes the check (and the route then wants a customer).
		wantBody(t, "valid pk, no token", f.store(t, "GET", "/store/customers/me", f.pk, "", nil), 401, unauthorizedBody)
	})

	t.Run("revoked", func(t *testing.T) {
		id, pk := f.publishableKey(t, "to revoke", f.sc)
		wantBody(t, "before revoke", f.store(t, "GET", "/store/customers/me", pk, "", nil), 401, unauthorizedBody)
		f.adminDo(t, "POST", "/admin/api-keys/"+id+"/revoke", map[string]any{})
		wantBody(t, "after revoke", f.store(t, "GET", "/store/customers/me", pk, "", nil), 400, pkInvalidBody)
	})

	t.Run("scheduled revocation", func(t *testing.T) {
		id, pk := f.publishableKey(t, "grace", f.sc)
		f.adminDo(t, "POST", "/admin/api-keys/"+id+"/revoke", map[string]any{"revoke_in": 3600})
		wantBody(t, "within the grace period", f.store(t, "GET", "/store/customers/me", pk, "", nil), 401, unauthorizedBody)
	})

	t.Run("disabled channel, key not cached", func(t *testing.T) {
		sc := f.channel(t, "Cold")
		_, pk := f.publishableKey(t, "cold", sc)
		f.adminDo(t, "POST", "/admin/sales-channels/"+sc, map[string]any{"is_disabled": true})
		wantBody(t, "pk of a disabled channel", f.store(t, "GET", "/store/customers/me", pk, "", nil), 400, pkInvalidBody)
	})

	t.Run("disabled channel, key cached", func(t *testing.T) {
		sc := f.channel(t, "Warm")
		_, pk := f.publishableKey(t, "warm", sc)
		wantBody(t, "before disabling", f.store(t, "GET", "/store/customers/me", pk, "", nil), 401, unauthorizedBody)
		f.adminDo(t, "POST", "/admin/sales-channels/"+sc, map[string]any{"is_disabled": true})
		wantBody(t, "right after disabling the key's only channel", f.store(t, "GET", "/store/customers/me", pk, "", nil), 400, pkInvalidBody)
	})

	t.Run("secret key on /store", func(t *testing.T) {
		k, _ := f.adminDo(t, "POST", "/admin/api-keys", map[string]any{"title": "backend", "type": "secret"})["api_key"].(map[string]any)
		sk, _ := k["token"].(string)
		wantBody(t, "Basic sk without pk", env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", f.tn.Slug, "Authorization", "Basic "+sk), 400, pkRequiredBody)
		wantBody(t, "sk as pk", f.store(t, "GET", "/store/customers/me", sk, "", nil), 400, pkInvalidBody)
		wantBody(t, "Basic sk with pk", env.Do(t, "GET", "/store/customers/me", nil, "x-tenant-id", f.tn.Slug, "x-publishable-api-key", f.pk, "Authorization", "Basic "+sk), 401, unauthorizedBody)
		wantBody(t, "Bearer sk with pk", f.store(t, "GET", "/store/customers/me", f.pk, sk, nil), 401, unauthorizedBody)
	})

	t.Run("publishable key on /admin", func(t *testing.T) {
		for name, h := range map[string][]string{
			"pk header": {"x-tenant-id", f.tn.Slug, "x-publishable-api-key", f.pk},
			"Basic pk":  {"x-tenant-id", f.tn.Slug, "Authorization", "Basic " + f.pk},
			"Bearer pk": {"x-tenant-id", f.tn.Slug, "Authorization", "Bearer " + f.pk},
		} {
			wantBody(t, name+" on /admin/users", env.Do(t, "GET", "/admin/users", nil, h...), 401, unauthorizedBody)
		}
	})
}

func TestStoreCustomers(t *testing.T) {
	env := apitest.New(t)
	f := newStoreFixture(t, env, "acme")

	t.Run("no token", func(t *testing.T) {
		// Behaviour 55.
		wantBody(t, "POST /store/customers without token", f.store(t, "POST", "/store/customers", f.pk, "", map[string]any{"email": "a@acme.test"}), 401, unauthorizedBody)
		wantBody(t, "POST /store/customers with garbage token", f.store(t, "POST", "/store/customers", f.pk, "garbage", map[string]any{"email": "a@acme.test"}), 401, unauthorizedBody)
		// A user registration token is not a customer's.
		ureg := f.token(t, "user", "/register", "wannabe@acme.test", "correct horse 2")
		wantBody(t, "POST /store/customers with a user registration token", f.store(t, "POST", "/store/customers", f.pk, ureg, map[string]any{"email": "wannabe@acme.test"}), 401, unauthorizedBody)
		if n := f.customers(t, "wannabe@acme.test"); n != 0 {
			t.Errorf("customers with wannabe@acme.test = %d, want 0", n)
		}
	})

	t.Run("register", func(t *testing.T) {
		// Behaviour 56.
		reg := f.token(t, "customer", "/register", "jane@acme.test", "correct horse 2")
		r := f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": "jane@acme.test", "first_name": "Jane", "last_name": "Doe"})
		if r.Status != 200 {
			t.Fatalf("POST /store/customers = %d %s, want 200", r.Status, r.Body)
		}
		c, _ := r.JSON["customer"].(map[string]any)
		if c["email"] != "jane@acme.test" || c["first_name"] != "Jane" || c["last_name"] != "Doe" || c["has_account"] != true {
			t.Errorf("POST /store/customers = %v, want jane@acme.test Jane Doe has_account", c)
		}
		for _, k := range []string{"id", "company_name", "phone", "metadata", "addresses", "created_at", "updated_at", "deleted_at"} {
			if _, ok := c[k]; !ok {
				t.Errorf("customer lacks field %q: %v", k, c)
			}
		}
		// Behaviour 58: a token whose customer exists.
		login := f.token(t, "customer", "", "jane@acme.test", "correct horse 2")
		wantBody(t, "POST /store/customers as a customer", f.store(t, "POST", "/store/customers", f.pk, login, map[string]any{"email": "jane@acme.test"}), 400,
			map[string]any{"type": "invalid_data", "message": "Request already authenticated as a customer."})
		// The registration token again: the account exists now.
		r = f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": "jane@acme.test"})
		if r.Status == 200 {
			t.Errorf("second POST /store/customers with the same registration token = 200 %s, want a refusal", r.Body)
		}
		if n := f.customers(t, "jane@acme.test"); n != 1 {
			t.Errorf("customers with jane@acme.test = %d, want 1", n)
		}
	})

	t.Run("validation", func(t *testing.T) {
		reg := f.token(t, "customer", "/register", "strict@acme.test", "correct horse 2")
		wantBody(t, "no email", f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"first_name": "S"}), 400,
			map[string]any{"type": "invalid_data", "message": "Email is required to create a customer"})
		wantBody(t, "unknown field", f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": "strict@acme.test", "has_account": false}), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'has_account'"})
		if n := f.customers(t, "strict@acme.test"); n != 0 {
			t.Errorf("customers with strict@acme.test = %d, want 0", n)
		}
	})

	t.Run("duplicate account", func(t *testing.T) {
		// Behaviour 59. Emails are bound to identities and identities are
		// unique, so the other account is one made outside /store (an import).
		if _, err := env.DB.Customer.Create().SetEmail("dup@acme.test").SetHasAccount(true).Save(env.Ctx(f.tn)); err != nil {
			t.Fatalf("create customer: %v", err)
		}
		reg := f.token(t, "customer", "/register", "dup@acme.test", "correct horse 2")
		wantBody(t, "POST /store/customers with a taken email", f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": "dup@acme.test"}), 422,
			map[string]any{"type": "duplicate_error", "code": "invalid_request_error", "message": "Customer with this email already has an account"})
		if n := f.customers(t, "dup@acme.test"); n != 1 {
			t.Errorf("customers with dup@acme.test = %d, want 1", n)
		}
	})

	t.Run("guest with the same email", func(t *testing.T) {
		// Behaviour 57.
		if _, err := env.DB.Customer.Create().SetEmail("guest@acme.test").Save(env.Ctx(f.tn)); err != nil {
			t.Fatalf("create guest: %v", err)
		}
		f.register(t, "guest@acme.test", "correct horse 2")
		if g, a := f.customers(t, "guest@acme.test", false), f.customers(t, "guest@acme.test", true); g != 1 || a != 1 {
			t.Errorf("guest@acme.test: %d guests, %d accounts, want 1 and 1", g, a)
		}
	})

	t.Run("email must be the identity's", func(t *testing.T) {
		reg := f.token(t, "customer", "/register", "owner@acme.test", "correct horse 2")
		r := f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": "victim@acme.test"})
		if r.Status != 400 || (r.JSON["type"] != "invalid_data" && r.JSON["type"] != "not_allowed") {
			t.Errorf("POST /store/customers with another email = %d %s, want 400 invalid_data or not_allowed", r.Status, r.Body)
		}
		if a, b := f.customers(t, "victim@acme.test"), f.customers(t, "owner@acme.test"); a != 0 || b != 0 {
			t.Errorf("customers after refusal: victim %d, owner %d, want 0 and 0", a, b)
		}
		// The identity's own email, in any case, then works.
		r = f.store(t, "POST", "/store/customers", f.pk, reg, map[string]any{"email": "Owner@ACME.test"})
		if c, _ := r.JSON["customer"].(map[string]any); r.Status != 200 || c["email"] != "owner@acme.test" {
			t.Errorf("POST /store/customers with the identity's email = %d %s, want 200 owner@acme.test", r.Status, r.Body)
		}
	})

	t.Run("me", func(t *testing.T) {
		id, tok := f.register(t, "me@acme.test", "correct horse 2")
		r := f.store(t, "GET", "/store/customers/me", f.pk, tok, nil)
		if c, _ := r.JSON["customer"].(map[string]any); r.Status != 200 || c["id"] != id || c["email"] != "me@acme.test" {
			t.Fatalf("GET /store/customers/me = %d %s, want customer %s", r.Status, r.Body, id)
		}
		r = f.store(t, "POST", "/store/customers/me", f.pk, tok, map[string]any{"first_name": "Me", "phone": "+15550100", "metadata": map[string]any{"vip": true}})
		c, _ := r.JSON["customer"].(map[string]any)
		if r.Status != 200 || c["first_name"] != "Me" || c["phone"] != "+15550100" || c["email"] != "me@acme.test" {
			t.Errorf("POST /store/customers/me = %d %s, want first_name Me, phone set", r.Status, r.Body)
		}
		if diff := cmp.Diff(map[string]any{"vip": true}, c["metadata"]); diff != "" {
			t.Errorf("POST /store/customers/me metadata (-want +got):\n%s", diff)
		}
		r = f.store(t, "POST", "/store/customers/me", f.pk, tok, map[string]any{"phone": nil})
		if c, _ := r.JSON["customer"].(map[string]any); r.Status != 200 || c["phone"] != nil || c["first_name"] != "Me" {
			t.Errorf("POST /store/customers/me {phone:null} = %d %s, want phone cleared only", r.Status, r.Body)
		}
		wantBody(t, "POST /store/customers/me with email", f.store(t, "POST", "/store/customers/me", f.pk, tok, map[string]any{"email": "other@acme.test"}), 400,
			map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'email'"})

		wantBody(t, "GET /store/customers/me without token", f.store(t, "GET", "/store/customers/me", f.pk, "", nil), 401, unauthorizedBody)
		reg := f.token(t, "customer", "/register", "unlinked@acme.test", "correct horse 2")
		wantBody(t, "GET /store/customers/me with a registration token", f.store(t, "GET", "/store/customers/me", f.pk, reg, nil), 401, unauthorizedBody)
		wantBody(t, "POST /store/customers/me with a registration token", f.store(t, "POST", "/store/customers/me", f.pk, reg, map[string]any{"first_name": "X"}), 401, unauthorizedBody)
		wantBody(t, "GET /store/customers/me without pk", f.store(t, "GET", "/store/customers/me", "", tok, nil), 400, pkRequiredBody)
	})

	t.Run("actors do not cross namespaces", func(t *testing.T) {
		_, ctok := f.register(t, "shopper@acme.test", "correct horse 2")
		wantBody(t, "admin token on /store/customers/me", f.store(t, "GET", "/store/customers/me", f.pk, f.admin, nil), 401, unauthorizedBody)
		wantBody(t, "admin token on POST /store/customers/me", f.store(t, "POST", "/store/customers/me", f.pk, f.admin, map[string]any{"first_name": "X"}), 401, unauthorizedBody)
		wantBody(t, "customer token on /admin/users/me", env.Do(t, "GET", "/admin/users/me", nil, "x-tenant-id", f.tn.Slug, "Authorization", "Bearer "+ctok), 401, unauthorizedBody)
		wantBody(t, "customer token on /admin/users", env.Do(t, "GET", "/admin/users", nil, "x-tenant-id", f.tn.Slug, "Authorization", "Bearer "+ctok), 401, unauthorizedBody)
	})
}

// TestStoreCustomersCrossTenant checks that a customer of tenant B is nobody
// on tenant A's store.
func TestStoreCustomersCrossTenant(t *testing.T) {
	env := apitest.New(t)
	a := newStoreFixture(t, env, "acme")
	b := newStoreFixture(t, env, "globex")
	_, btok := b.register(t, "shopper@globex.test", "correct horse 2")
	breg := b.token(t, "customer", "/register", "new@globex.test", "correct horse 2")

	wantBody(t, "B's customer token on A", a.store(t, "GET", "/store/customers/me", a.pk, btok, nil), 401, unauthorizedBody)
	wantBody(t, "B's registration token on A", a.store(t, "POST", "/store/customers", a.pk, breg, map[string]any{"email": "new@globex.test"}), 401, unauthorizedBody)
	wantBody(t, "B's pk on A", a.store(t, "GET", "/store/customers/me", b.pk, "", nil), 400, pkInvalidBody)
	if n := a.customers(t, "new@globex.test"); n != 0 {
		t.Errorf("A customers with new@globex.test = %d, want 0", n)
	}
	// The same email registers separately in A.
	a.register(t, "shopper@globex.test", "correct horse 3")
	r := b.store(t, "GET", "/store/customers/me", b.pk, btok, nil)
	if c, _ := r.JSON["customer"].(map[string]any); r.Status != 200 || c["email"] != "shopper@globex.test" {
		t.Errorf("B's customer after A's registration = %d %s", r.Status, r.Body)
	}
}
