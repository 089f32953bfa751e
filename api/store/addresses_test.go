package store_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/customeraddress"
)

// addrIDs returns the ids of a list of addresses in a response body.
func addrIDs(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("addresses = %#v, want a list", v)
	}
	out := []string{}
	for _, a := range list {
		out = append(out, a.(map[string]any)["id"].(string))
	}
	return out
}

// TestCustomerAddresses: a signed-in customer lists, creates, reads, changes
// and deletes its own addresses, with Medusa's shapes; one address at most is
// the default shipping (and billing) one; the customer object shows them.
func TestCustomerAddresses(t *testing.T) {
	env := apitest.New(t)
	f := newStoreFixture(t, env, "acme")
	cusID, tok := f.register(t, "ann@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return f.store(t, method, path, f.pk, tok, body)
	}

	r := do("POST", "/store/customers/me/addresses", map[string]any{
		"address_name": "Home", "first_name": "Ann", "last_name": "Lee", "address_1": "1 Main St", "city": "Oslo",
		"country_code": "no", "postal_code": "0150", "phone": "+47 1", "company": nil, "metadata": map[string]any{"floor": 3},
		"is_default_shipping": true,
	})
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	cus := r.JSON["customer"].(map[string]any)
	if cus["id"] != cusID {
		t.Fatalf("create answered customer %v, want %s", cus["id"], cusID)
	}
	home := cus["addresses"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"address_name": "Home", "first_name": "Ann", "city": "Oslo", "country_code": "no",
		"customer_id": cusID, "is_default_shipping": true, "is_default_billing": false, "company": nil, "address_2": nil, "deleted_at": nil} {
		if home[k] != want {
			t.Errorf("created address %s = %#v, want %#v", k, home[k], want)
		}
	}
	if m, _ := home["metadata"].(map[string]any); m["floor"] != float64(3) {
		t.Errorf("metadata = %v", home["metadata"])
	}
	homeID, _ := home["id"].(string)
	if !strings.HasPrefix(homeID, "cuaddr_") {
		t.Errorf("address id %q, want cuaddr_…", homeID)
	}

	// A second default shipping address takes the role from the first.
	r = do("POST", "/store/customers/me/addresses", map[string]any{"address_name": "Work", "city": "Bergen", "country_code": "no",
		"is_default_shipping": true, "is_default_billing": true})
	if r.Status != 200 {
		t.Fatalf("create work: %d %s", r.Status, r.Body)
	}
	all := r.JSON["customer"].(map[string]any)["addresses"].([]any)
	if len(all) != 2 {
		t.Fatalf("customer has %d addresses, want 2", len(all))
	}
	workID := all[1].(map[string]any)["id"].(string)
	got := do("GET", "/store/customers/me/addresses/"+homeID, nil)
	if got.Status != 200 || got.JSON["address"].(map[string]any)["is_default_shipping"] != false {
		t.Errorf("home after work became default shipping: %d %s", got.Status, got.Body)
	}

	// Lists: Medusa's page and filters.
	list := do("GET", "/store/customers/me/addresses", nil)
	if list.Status != 200 || list.JSON["count"] != float64(2) || list.JSON["limit"] != float64(50) || list.JSON["offset"] != float64(0) {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	for query, want := range map[string][]string{
		"city=Oslo":                           {homeID},
		"city%5B0%5D=Oslo&city%5B1%5D=Bergen": {homeID, workID},
		"q=wor":                               {workID},
		"postal_code=0150":                    {homeID},
		"country_code=se":                     {},
		"order=-city":                         {homeID, workID},
		"limit=1&offset=1":                    {workID},
	} {
		r := do("GET", "/store/customers/me/addresses?"+query, nil)
		if r.Status != 200 {
			t.Errorf("list ?%s: %d %s", query, r.Status, r.Body)
			continue
		}
		if ids := addrIDs(t, r.JSON["addresses"]); !slices.Equal(ids, want) {
			t.Errorf("list ?%s = %v, want %v", query, ids, want)
		}
	}
	wantBody(t, "unknown list parameter", do("GET", "/store/customers/me/addresses?created_at%5B%24gt%5D=2020-01-01", nil), 400,
		map[string]any{"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'created_at'"})

	// Update: sent fields change, null clears, absent stays.
	r = do("POST", "/store/customers/me/addresses/"+homeID, map[string]any{"city": "Trondheim", "phone": nil, "is_default_billing": true})
	if r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	a := do("GET", "/store/customers/me/addresses/"+homeID, nil).JSON["address"].(map[string]any)
	if a["city"] != "Trondheim" || a["phone"] != nil || a["first_name"] != "Ann" || a["is_default_billing"] != true {
		t.Errorf("after update: %v", a)
	}
	if w := do("GET", "/store/customers/me/addresses/"+workID, nil).JSON["address"].(map[string]any); w["is_default_billing"] != false || w["is_default_shipping"] != true {
		t.Errorf("work after home became default billing: %v", w)
	}

	// The customer object carries the addresses.
	me := do("GET", "/store/customers/me", nil)
	if ids := addrIDs(t, me.JSON["customer"].(map[string]any)["addresses"]); !slices.Equal(ids, []string{homeID, workID}) {
		t.Errorf("GET /store/customers/me addresses = %v", ids)
	}

	// Delete answers as Medusa 2.21 does: the customer's id, the customer as parent.
	r = do("DELETE", "/store/customers/me/addresses/"+workID, nil)
	if r.Status != 200 || r.JSON["id"] != cusID || r.JSON["object"] != "address" || r.JSON["deleted"] != true {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if ids := addrIDs(t, r.JSON["parent"].(map[string]any)["addresses"]); !slices.Equal(ids, []string{homeID}) {
		t.Errorf("parent after delete has %v", ids)
	}
	wantBody(t, "deleted address", do("GET", "/store/customers/me/addresses/"+workID, nil), 404,
		map[string]any{"type": "not_found", "message": "Address with id: " + workID + " was not found"})
	wantBody(t, "delete again", do("DELETE", "/store/customers/me/addresses/"+workID, nil), 404,
		map[string]any{"type": "not_found", "message": "Address with id: " + workID + " was not found"})
}

// TestCustomerAddressesBadInput: bad bodies get Medusa's 400 and write
// nothing; no credentials or a registration token get 401; the number of
// addresses is bounded.
func TestCustomerAddressesBadInput(t *testing.T) {
	env := apitest.New(t)
	f := newStoreFixture(t, env, "acme")
	_, tok := f.register(t, "ann@acme.test", "correct-horse-9")
	do := func(method, path string, body any) *apitest.Response {
		t.Helper()
		return f.store(t, method, path, f.pk, tok, body)
	}
	invalid := func(msg string) map[string]any {
		return map[string]any{"type": "invalid_data", "message": "Invalid request: " + msg}
	}
	for name, tc := range map[string]struct {
		body any
		msg  string
	}{
		"unknown field":     {map[string]any{"city": "Oslo", "street": "x"}, "Unrecognized fields: 'street'"},
		"number for a text": {map[string]any{"city": 5}, "Expected type: 'string' for field 'city', got: 'other'"},
		"null default flag": {map[string]any{"is_default_shipping": nil}, "Expected type: 'boolean' for field 'is_default_shipping', got: 'null'"},
		"string flag":       {map[string]any{"is_default_billing": "yes"}, "Expected type: 'boolean' for field 'is_default_billing', got: 'string'"},
		"array metadata":    {map[string]any{"metadata": []any{1}}, "Expected type: 'object' for field 'metadata', got: 'other'"},
		"too long":          {map[string]any{"address_1": strings.Repeat("x", 1025)}, "Value for field 'address_1' too big, expected at most: '1024'"},
	} {
		wantBody(t, name, do("POST", "/store/customers/me/addresses", tc.body), 400, invalid(tc.msg))
	}
	if n, err := env.DB.CustomerAddress.Query().Count(env.Ctx(f.tn)); err != nil || n != 0 {
		t.Fatalf("refused bodies wrote %d addresses (%v)", n, err)
	}
	wantBody(t, "no credentials", f.store(t, "GET", "/store/customers/me/addresses", f.pk, "", nil), 401, unauthorizedBody)
	reg := f.token(t, "customer", "/register", "new@acme.test", "correct-horse-9")
	wantBody(t, "registration token", f.store(t, "POST", "/store/customers/me/addresses", f.pk, reg, map[string]any{"city": "x"}), 401, unauthorizedBody)
	wantBody(t, "no publishable key", f.store(t, "GET", "/store/customers/me/addresses", "", tok, nil), 400, pkRequiredBody)

	for i := range auth.MaxAddresses {
		if r := do("POST", "/store/customers/me/addresses", map[string]any{"address_name": fmt.Sprint(i)}); r.Status != 200 {
			t.Fatalf("address %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantBody(t, "one address too many", do("POST", "/store/customers/me/addresses", map[string]any{"city": "x"}), 400,
		map[string]any{"type": "invalid_data", "message": fmt.Sprintf("A customer can have at most %d addresses", auth.MaxAddresses)})
	if r := do("GET", "/store/customers/me/addresses?limit=1", nil); r.JSON["count"] != float64(auth.MaxAddresses) {
		t.Errorf("count after the refused one = %v", r.JSON["count"])
	}
}

// TestCustomerAddressesConcurrent: a burst of creates near the bound leaves
// exactly MaxAddresses addresses and one default shipping address, on
// PostgreSQL too (make test-integration), where each create locks its
// customer's row; without the lock several creates count the same rows.
func TestCustomerAddressesConcurrent(t *testing.T) {
	env := apitest.New(t)
	f := newStoreFixture(t, env, "acme")
	cusID, tok := f.register(t, "ann@acme.test", "correct-horse-9")
	const free, burst = 5, 20
	var rows []*ent.CustomerAddressCreate
	for i := range auth.MaxAddresses - free {
		rows = append(rows, env.DB.CustomerAddress.Create().SetCustomerID(cusID).SetAddressName(fmt.Sprint(i)))
	}
	if err := env.DB.CustomerAddress.CreateBulk(rows...).Exec(env.Ctx(f.tn)); err != nil {
		t.Fatal(err)
	}
	statuses := make(chan int, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.store(t, "POST", "/store/customers/me/addresses", f.pk, tok,
				map[string]any{"address_name": fmt.Sprint("burst ", i), "is_default_shipping": true})
			statuses <- r.Status
		}()
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for st := range statuses {
		got[st]++
	}
	if got[200] != free || got[400] != burst-free {
		t.Errorf("statuses %v, want %d × 200 and %d × 400", got, free, burst-free)
	}
	ctx := env.Ctx(f.tn)
	if n, err := env.DB.CustomerAddress.Query().Count(ctx); err != nil || n != auth.MaxAddresses {
		t.Errorf("%d addresses after the burst (%v), want %d", n, err, auth.MaxAddresses)
	}
	if n, err := env.DB.CustomerAddress.Query().Where(customeraddress.IsDefaultShipping(true)).Count(ctx); err != nil || n != 1 {
		t.Errorf("%d default shipping addresses (%v), want 1", n, err)
	}
}

// TestCustomerAddressesIsolation: another customer of the tenant, and a
// customer of another tenant, get 404 for an address that is not theirs,
// and their lists do not show it.
func TestCustomerAddressesIsolation(t *testing.T) {
	env := apitest.New(t)
	a := newStoreFixture(t, env, "acme")
	_, annTok := a.register(t, "ann@acme.test", "correct-horse-9")
	_, bobTok := a.register(t, "bob@acme.test", "correct-horse-9")
	r := a.store(t, "POST", "/store/customers/me/addresses", a.pk, annTok, map[string]any{"city": "Oslo"})
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := addrIDs(t, r.JSON["customer"].(map[string]any)["addresses"])[0]
	notFound := map[string]any{"type": "not_found", "message": "Address with id: " + id + " was not found"}

	b := newStoreFixture(t, env, "beta")
	_, carlTok := b.register(t, "carl@beta.test", "correct-horse-9")
	for who, call := range map[string]func(method, path string, body any) *apitest.Response{
		"bob (same tenant)": func(m, p string, body any) *apitest.Response { return a.store(t, m, p, a.pk, bobTok, body) },
		"carl (tenant B)":   func(m, p string, body any) *apitest.Response { return b.store(t, m, p, b.pk, carlTok, body) },
	} {
		wantBody(t, who+" reads", call("GET", "/store/customers/me/addresses/"+id, nil), 404, notFound)
		wantBody(t, who+" updates", call("POST", "/store/customers/me/addresses/"+id, map[string]any{"city": "Stolen"}), 404, notFound)
		wantBody(t, who+" deletes", call("DELETE", "/store/customers/me/addresses/"+id, nil), 404, notFound)
		if l := call("GET", "/store/customers/me/addresses", nil); l.Status != 200 || l.JSON["count"] != float64(0) {
			t.Errorf("%s lists: %d %s", who, l.Status, l.Body)
		}
	}
	// Ann's token on tenant B's host is not a customer there.
	wantBody(t, "ann's token on beta", b.store(t, "GET", "/store/customers/me/addresses", b.pk, annTok, nil), 401, unauthorizedBody)
	got, err := env.DB.CustomerAddress.Query().Where(customeraddress.ID(id)).Only(env.Ctx(a.tn))
	if err != nil || got.City == nil || *got.City != "Oslo" {
		t.Errorf("ann's address after the others' attempts: %v, %v", got, err)
	}
}
