package auth

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/gatehousehq/gatehouse/tenants"
)

// ActorsChannel announces changed or deleted actors (message: tenant id,
// kind and actor id): every node drops them from its actor cache.
const ActorsChannel = "actors:changed"

// actorCache keeps the admin users and customers that authenticated
// requests read (GET /admin/users/me, /store/customers/me) by tenant and id,
// so a repeated read costs a map lookup instead of a database round trip.
// It exists only over a CachedStore: entries are trusted only while its
// stream is fresh, every change made through the Service drops the entry here
// and announces it to the other nodes before returning, and a read that
// raced a change is not stored. Values are shared: callers must not modify
// them.
type actorCache struct {
	bus   *CachedStore
	cache *expirable.LRU[actorKey, any]
	gen   atomic.Uint64
}

type actorKey struct {
	tenantID string
	kind     byte // 'u' user, 'c' customer, 'a' a customer's addresses
	id       string
}

// newActorCache returns the actor cache of store, or nil (no caching) when
// store is not a CachedStore: without its stream nothing says when an entry
// went stale.
func newActorCache(store Store) *actorCache {
	cs, ok := store.(*CachedStore)
	if !ok || cs.opt.Actors < 0 {
		return nil
	}
	size := cs.opt.Actors
	if size == 0 {
		size = 100000
	}
	a := &actorCache{bus: cs, cache: expirable.NewLRU[actorKey, any](size, nil, cs.opt.TTL)}
	// Registration with a CachedStore is local and cannot fail; the
	// subscription ends when the store closes.
	_, _ = cs.Subscribe(context.Background(), ActorsChannel, a.receive)
	return a
}

func (a *actorCache) receive(msg string) {
	a.gen.Add(1)
	if msg == "*" {
		a.cache.Purge()
		return
	}
	parts := strings.SplitN(msg, busSep, 3)
	if len(parts) != 3 || len(parts[1]) != 1 {
		a.cache.Purge()
		return
	}
	a.cache.Remove(actorKey{parts[0], parts[1][0], parts[2]})
}

// findActor returns the cached actor of kind and id in the tenant of ctx,
// or calls load and caches its result. A nil cache always calls load.
func findActor[T any](ctx context.Context, a *actorCache, kind byte, id string, load func() (T, error)) (T, error) {
	return findActorIf(ctx, a, kind, id, load, nil)
}

// findActorIf is findActor caching only the results keep accepts (nil: all).
func findActorIf[T any](ctx context.Context, a *actorCache, kind byte, id string, load func() (T, error), keep func(T) bool) (T, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if a == nil || !ok || !a.bus.Fresh() {
		return load()
	}
	k := actorKey{tenantID, kind, id}
	if v, ok := a.cache.Get(k); ok {
		return v.(T), nil
	}
	gen := a.gen.Load()
	v, err := load()
	if err == nil && a.gen.Load() == gen && a.bus.Fresh() && (keep == nil || keep(v)) {
		a.cache.Add(k, v)
	}
	return v, err
}

// changed drops an actor here and on every node. Call it after the change
// is committed.
func (a *actorCache) changed(ctx context.Context, kind byte, id string) {
	if a == nil {
		return
	}
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		a.gen.Add(1)
		a.cache.Purge()
		return
	}
	a.gen.Add(1)
	a.cache.Remove(actorKey{tenantID, kind, id})
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	// A lost message leaves other nodes' entries stale only until their
	// stream is found stale (the heartbeat is lost with it) or TTL.
	_ = a.bus.Publish(pctx, ActorsChannel, tenantID+busSep+string(kind)+busSep+id)
}
