package auth

import (
	"testing"
	"time"
)

// TestCustomerAddressesCached: a customer's addresses are read from the
// actor cache once loaded (a row written behind the Service's back is not
// seen), and an address written through either of two nodes sharing the
// store is seen on both within 100 ms. A list longer than cachedAddresses
// is read from the database every time.
func TestCustomerAddressesCached(t *testing.T) {
	db, ctx := acmeTenant(t)
	cus, err := db.Customer.Create().SetEmail("ann@acme.test").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inner := NewMemoryStore()
	t.Cleanup(func() { _ = inner.Close() })
	a := NewService(db, newTestCachedStore(t, inner, testCacheOptions), nil, nil, nil, nil, Config{}, nil)
	b := NewService(db, newTestCachedStore(t, inner, testCacheOptions), nil, nil, nil, nil, Config{}, nil)
	count := func(s *Service) int {
		t.Helper()
		as, err := s.CustomerAddresses(ctx, cus.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(as)
	}
	city := "Oslo"
	in := AddressInput{Text: map[string]*string{"city": &city}}
	if n := count(b); n != 0 {
		t.Fatalf("%d addresses, want 0", n)
	}
	// Written behind the Services' back: the cached empty list still answers.
	if err := db.CustomerAddress.Create().SetCustomerID(cus.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(b); n != 0 {
		t.Errorf("%d addresses right after an unannounced insert, want the cached 0", n)
	}
	// Written through node A: node B sees it within 100 ms.
	seen := func(want int) {
		t.Helper()
		deadline := time.Now().Add(100 * time.Millisecond)
		for count(b) != want {
			if time.Now().After(deadline) {
				t.Fatalf("node B: %d addresses 100 ms after the write on node A, want %d", count(b), want)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	ad, err := a.CreateAddress(ctx, cus.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	seen(2)
	if err := a.DeleteAddress(ctx, ad.ID, ad.ID); err == nil {
		t.Fatal("deleting with another customer's id succeeded")
	}
	if err := a.DeleteAddress(ctx, cus.ID, ad.ID); err != nil {
		t.Fatal(err)
	}
	seen(1)
	// Past cachedAddresses the list is not cached: an unannounced insert shows.
	for range cachedAddresses {
		if _, err := a.CreateAddress(ctx, cus.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	seen(cachedAddresses + 1)
	// A node started now has no change message of those writes in flight.
	c := NewService(db, newTestCachedStore(t, inner, testCacheOptions), nil, nil, nil, nil, Config{}, nil)
	if n := count(c); n != cachedAddresses+1 {
		t.Fatalf("node C: %d addresses, want %d", n, cachedAddresses+1)
	}
	if err := db.CustomerAddress.Create().SetCustomerID(cus.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(c); n != cachedAddresses+2 {
		t.Errorf("node C: %d addresses, want %d read from the database", n, cachedAddresses+2)
	}
}
