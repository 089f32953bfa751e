package rbac

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/rbacassignment"
	"github.com/gatehousehq/gatehouse/tenants"
)

//go:embed model.conf
var modelText string

// ChangesChannel is the Bus channel on which a tenant's RBAC changes are
// announced (message: the tenant id): every node drops that tenant's enforcer.
const ChangesChannel = "rbac:changed"

// UserSubject is the Casbin subject of an admin user.
func UserSubject(id string) string { return "user:" + id }

// KeySubject is the Casbin subject of a secret API key.
func KeySubject(id string) string { return "apikey:" + id }

// Authorizer answers "may this subject do this operation on this resource"
// for the tenant in the context. It keeps one Casbin enforcer per tenant,
// loaded on first use through the Ent adapter and held in a bounded LRU, and
// one flat decision cache for every tenant (decisionCache). Any change to a
// tenant's roles, policies or assignments drops that tenant's enforcer and
// cached decisions here and, through the Bus, on every other node.
type Authorizer struct {
	db        *ent.Client
	bus       tenants.Bus
	model     model.Model
	enforcers *lru.Cache[string, *tenantEnforcer]
	lagging   *lru.Cache[string, *tenantEnforcer] // loaded while the bus lags
	decisions int
	cache     *decisionCache
	stop      func()
	loads     atomic.Int64
	evals     atomic.Int64
}

// Options configures an Authorizer.
type Options struct {
	Bus       tenants.Bus // nil: this node only
	Tenants   int         // enforcers kept in memory (default 10,000)
	Decisions int         // subjects' role lists cached per tenant (default 4,096)
	// CachedDecisions bounds the flat decision cache shared by all tenants
	// (default 262,144; rounded up to whole 64-byte buckets of 8 decisions, a
	// power of two of them: 2 MiB by default).
	CachedDecisions int
}

// NewAuthorizer returns an Authorizer over db.
func NewAuthorizer(db *ent.Client, opt Options) (*Authorizer, error) {
	if opt.Tenants <= 0 {
		opt.Tenants = 10000
	}
	if opt.Decisions <= 0 {
		opt.Decisions = 4096
	}
	if opt.CachedDecisions <= 0 {
		opt.CachedDecisions = 1 << 18
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("rbac model: %w", err)
	}
	c, err := lru.New[string, *tenantEnforcer](opt.Tenants)
	if err != nil {
		return nil, err
	}
	lag, err := lru.New[string, *tenantEnforcer](opt.Tenants)
	if err != nil {
		return nil, err
	}
	return &Authorizer{db: db, bus: opt.Bus, model: m, enforcers: c, lagging: lag, decisions: opt.Decisions,
		cache: newDecisionCache(opt.CachedDecisions)}, nil
}

// Start subscribes to RBAC changes made on other nodes.
func (a *Authorizer) Start(ctx context.Context) error {
	if a.bus == nil {
		return nil
	}
	stop, err := a.bus.Subscribe(ctx, ChangesChannel, func(tenantID string) { a.forget(tenantID) })
	if err != nil {
		return fmt.Errorf("subscribe to rbac changes: %w", err)
	}
	a.stop = stop
	return nil
}

// Close stops the subscription.
func (a *Authorizer) Close() {
	if a.stop != nil {
		a.stop()
	}
}

// forget drops tenantID's enforcer ("*": every tenant's), then its cached
// decisions. The order matters: a decision read under the old generation may
// have used the old enforcer, so the generation moves only once no new reader
// can reach that enforcer.
func (a *Authorizer) forget(tenantID string) {
	if tenantID == "*" {
		a.enforcers.Purge()
		a.lagging.Purge()
		a.cache.purge()
		return
	}
	a.enforcers.Remove(tenantID)
	a.lagging.Remove(tenantID)
	a.cache.forget(a.cache.slot(tenantID))
}

// Changed drops tenantID's enforcer on this node at once and tells the other
// nodes. Call it after the change is committed.
func (a *Authorizer) Changed(ctx context.Context, tenantID string) {
	a.forget(tenantID)
	if a.bus != nil {
		// Best effort: a lost message leaves another node deciding on stale
		// policies until its enforcer is evicted.
		_ = a.bus.Publish(context.WithoutCancel(ctx), ChangesChannel, tenantID)
	}
}

// Loads returns how many enforcers this Authorizer has loaded (for tests and
// metrics).
func (a *Authorizer) Loads() int64 { return a.loads.Load() }

// Evaluations returns how many decisions Casbin has evaluated, i.e. were not
// answered from the decision cache (for tests and benchmarks).
func (a *Authorizer) Evaluations() int64 { return a.evals.Load() }

// tenantEnforcer is one tenant's enforcer and role cache. The enforcer is
// never changed after loading: a change replaces the whole entry.
type tenantEnforcer struct {
	once sync.Once
	err  error

	mu sync.Mutex // Casbin's enforcer and role manager are not safe for concurrent use
	e  *casbin.Enforcer

	cmu   sync.RWMutex
	roles map[string][]string
	max   int

	loaded time.Time // when loaded while the bus lagged (see lagReuse)
}

// lagReuse is how long an enforcer loaded while the bus lags is reused: a
// change made on another node is still seen within the 100 ms it has.
const lagReuse = 50 * time.Millisecond

func (a *Authorizer) newTenantEnforcer() *tenantEnforcer {
	return &tenantEnforcer{roles: map[string][]string{}, max: a.decisions}
}

func (a *Authorizer) enforcer(ctx context.Context) (*tenantEnforcer, string, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return nil, "", tenants.ErrNoTenant
	}
	if !tenants.BusFresh(a.bus) {
		// Change messages may be missed: decide on the policies as they
		// are in the database, read at most lagReuse ago, and cache no
		// decision. (Reloading on every request would turn a lag caused by
		// a saturated CPU into more load.)
		if te, ok := a.lagging.Get(tenantID); ok && time.Since(te.loaded) < lagReuse {
			return te, tenantID, nil
		}
		te := a.newTenantEnforcer()
		te.e, te.err = a.load(ctx, tenantID)
		if te.err != nil {
			return nil, "", te.err
		}
		te.loaded = time.Now()
		a.lagging.Add(tenantID, te)
		return te, tenantID, nil
	}
	te, ok := a.enforcers.Get(tenantID)
	if !ok {
		fresh := a.newTenantEnforcer()
		prev, found, _ := a.enforcers.PeekOrAdd(tenantID, fresh)
		if found {
			te = prev
		} else {
			te = fresh
		}
	}
	te.once.Do(func() {
		te.e, te.err = a.load(ctx, tenantID)
	})
	if te.err != nil {
		a.enforcers.Remove(tenantID)
		return nil, "", te.err
	}
	return te, tenantID, nil
}

func (a *Authorizer) load(ctx context.Context, tenantID string) (*casbin.Enforcer, error) {
	a.loads.Add(1)
	e, err := casbin.NewEnforcer(a.model.Copy())
	if err != nil {
		return nil, fmt.Errorf("rbac enforcer: %w", err)
	}
	e.EnableAutoSave(false)
	e.SetAdapter(NewAdapter(context.WithoutCancel(ctx), a.db))
	if err := e.LoadFilteredPolicy(tenantID); err != nil {
		return nil, fmt.Errorf("load rbac policies of %s: %w", tenantID, err)
	}
	return e, nil
}

// Allowed reports whether subject may perform action on resource in the
// tenant of ctx, through its roles and their parents; "*" in a policy matches
// any resource or operation. Errors: no tenant in ctx, database failures.
func (a *Authorizer) Allowed(ctx context.Context, subject, resource, action string) (bool, error) {
	return a.AllowedIn(ctx, subject, resource, action, "")
}

// AllowedIn is Allowed for a request acting in sales channel ch ("": none):
// one Casbin decision answers both "may subject do this" and "in this
// channel" (a partner key limited to channels is allowed only in its own).
func (a *Authorizer) AllowedIn(ctx context.Context, subject, resource, action, ch string) (bool, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return false, tenants.ErrNoTenant
	}
	// While the bus is not fresh change messages may be missed: the cache is
	// neither read nor written (enforcer also bypasses the enforcer LRU).
	fresh := tenants.BusFresh(a.bus)
	h := a.cache.key(tenantID, subject, resource, action, ch)
	gen := a.cache.gen(a.cache.slot(tenantID)) // before the enforcer: see forget
	if fresh {
		if v, ok := a.cache.get(h, gen); ok {
			return v&valAllow != 0, nil
		}
	}
	te, _, err := a.enforcer(ctx)
	if err != nil {
		return false, err
	}
	var d bool
	a.evals.Add(1)
	te.mu.Lock()
	if resource == "" && action == "" {
		// No policy needed: the channel condition alone (matcher m2).
		d, err = te.e.Enforce(channelOnly, subject, tenantID, resource, action, ch)
	} else {
		d, err = te.e.Enforce(subject, tenantID, resource, action, ch)
	}
	te.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("rbac enforce: %w", err)
	}
	if fresh {
		a.cache.put(h, gen, verdict(d))
	}
	return d, nil
}

// channelOnly selects matcher m2 of model.conf.
var channelOnly = casbin.EnforceContext{RType: "r", PType: "p", EType: "e", MType: "m2"}

// Roles returns the role ids assigned to subject directly (not the parents),
// sorted.
func (a *Authorizer) Roles(ctx context.Context, subject string) ([]string, error) {
	te, tenantID, err := a.enforcer(ctx)
	if err != nil {
		return nil, err
	}
	te.cmu.RLock()
	rs, ok := te.roles[subject]
	te.cmu.RUnlock()
	if ok {
		return rs, nil
	}
	te.mu.Lock()
	rs = append([]string(nil), te.e.GetRolesForUserInDomain(subject, tenantID)...)
	te.mu.Unlock()
	sort.Strings(rs)
	te.cmu.Lock()
	if len(te.roles) >= te.max {
		clear(te.roles)
	}
	te.roles[subject] = rs
	te.cmu.Unlock()
	return rs, nil
}

func (a *Authorizer) hasAssignments(ctx context.Context, subject string) (bool, error) {
	typ, id, err := splitSubject(subject)
	if err != nil {
		return false, nil
	}
	ok, err := a.db.RBACAssignment.Query().Where(rbacassignment.SubjectTypeEQ(typ), rbacassignment.SubjectID(id)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("rbac assignments: %w", err)
	}
	return ok, nil
}

// Permission is a policy key split in its parts.
type Permission struct{ Resource, Operation string }

// String returns "resource:operation".
func (p Permission) String() string { return p.Resource + ":" + p.Operation }

// ErrNoRoles is returned by Check when the subject holds no role at all.
var ErrNoRoles = errors.New("rbac: subject has no roles")

// ChannelDenied is returned by Check when the subject holds the permissions
// but is limited to sales channels that do not include Channel.
type ChannelDenied struct{ Channel string }

func (e *ChannelDenied) Error() string {
	return "rbac: not allowed in sales channel " + e.Channel
}

// checkTag starts the cache key of a whole Check, so that it cannot collide
// with the key of a single decision (whose first part is a tenant id).
const checkTag = "\x00check"

// Check returns the permissions of need that subject lacks (nil: allowed), or
// ErrNoRoles when it has no role at all, or a *ChannelDenied when it holds
// them but not in one of channels (the sales channels the request names).
//
// A whole allowed Check is cached as one entry of the decision cache (for one
// policy and no channel, the entry of that decision), so the common case is
// one hash and one bucket read whatever the number of tenants; anything else
// is decided policy by policy (each decision cached too).
func (a *Authorizer) Check(ctx context.Context, subject string, need []Permission, channels ...string) ([]Permission, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	fresh := tenants.BusFresh(a.bus)
	single := len(need) == 1 && len(channels) == 0
	var h uint64
	if single {
		// The common case shares its entry with the one decision it is:
		// allowed means the subject holds a role with the policy.
		h = a.cache.key(tenantID, subject, need[0].Resource, need[0].Operation, "")
	} else {
		h = a.cache.checkKey(tenantID, subject, need, channels)
	}
	gen := a.cache.gen(a.cache.slot(tenantID))
	if fresh {
		if v, ok := a.cache.get(h, gen); ok {
			if v&valAllow != 0 {
				return nil, nil
			}
			// One policy refused, by a subject known to hold roles (the
			// entry a Check stored says so; one a lone decision stored does
			// not): that policy is what it lacks.
			if single && v&valRoles != 0 {
				return []Permission{need[0]}, nil
			}
		}
	}
	missing, err := a.check(ctx, subject, need, channels)
	if !fresh || len(need) == 0 {
		return missing, err
	}
	// "No roles" (ErrNoRoles) is never cached: a subject made on another
	// node is confirmed against the database every time until its roles
	// arrive here.
	switch {
	case err == nil && len(missing) == 0:
		a.cache.put(h, gen, valAllow|valRoles)
	case err == nil && single:
		// Refused, by a subject that holds roles: the next refusal is one
		// bucket read too, as a 403 is as common as a 200 at a gateway.
		a.cache.put(h, gen, valRoles)
	}
	return missing, err
}

func (a *Authorizer) check(ctx context.Context, subject string, need []Permission, channels []string) ([]Permission, error) {
	if len(need) == 0 {
		// A route that needs no policy: only the channel condition.
		return nil, a.checkChannels(ctx, subject, []Permission{{}}, channels)
	}
	rs, err := a.Roles(ctx, subject)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		// A subject made on another node (a new key, an accepted invite) may
		// be missing from this node's enforcer until the change message
		// arrives: a role-less answer is confirmed with one indexed query,
		// and a stale enforcer is reloaded.
		stale, err := a.hasAssignments(ctx, subject)
		if err != nil {
			return nil, err
		}
		if !stale {
			return nil, ErrNoRoles
		}
		if id, ok := tenants.IDFromContext(ctx); ok {
			a.forget(id)
		}
		if rs, err = a.Roles(ctx, subject); err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			return nil, ErrNoRoles
		}
	}
	var missing []Permission
	for _, p := range need {
		ok, err := a.Allowed(ctx, subject, p.Resource, p.Operation)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return missing, nil
	}
	// Held: now the same decisions in each named channel.
	return nil, a.checkChannels(ctx, subject, need, channels)
}

// checkChannels decides need in each of channels (the empty permission: the
// channel condition alone); a refusal is a *ChannelDenied.
func (a *Authorizer) checkChannels(ctx context.Context, subject string, need []Permission, channels []string) error {
	for _, ch := range channels {
		if ch == "" {
			continue
		}
		for _, p := range need {
			ok, err := a.AllowedIn(ctx, subject, p.Resource, p.Operation, ch)
			if err != nil {
				return err
			}
			if !ok {
				return &ChannelDenied{Channel: ch}
			}
		}
	}
	return nil
}

// decisionCache is the flat RBAC decision cache shared by every tenant: a
// fixed array of cache-line buckets addressed by a 64-bit keyed hash of
// (tenant, subject, resource, action). A hit reads one bucket (and one word of
// the tenant generations) instead of chasing the enforcer LRU, the tenant's
// enforcer and its map.
//
// An entry is one word: a 62-bit tag and two flags, eight to a 64-byte line.
// With 10,000 tenants the decisions in use are scattered over the whole table,
// so its size, not the number of decisions, is the memory every lookup draws
// from: at 8 bytes a decision the default table (262,144 decisions) is 2 MiB
// and mostly stays in the CPU's cache, where 16-byte entries three to a line
// needed 8 MiB for as many and missed it on most lookups.
//
// Invalidation is O(1): the tag mixes the key with the generation of its
// tenant's slot and the global epoch. Forgetting a tenant bumps its slot
// (tenants sharing a slot lose their entries too, which costs a reload of
// decisions, never a wrong answer) and "*" bumps the epoch; entries stored
// under an older generation no longer match and are overwritten in time.
//
// Readers take no lock: an entry is written and read as one atomic word, so a
// reader sees a whole entry or another one, never half of each. Writers that
// race on a bucket may overwrite each other's entry, which loses a cached
// decision, never answers a wrong one. The memory is allocated once: the cache
// is bounded by construction.
//
// The hash is seeded per process (maphash), so keys cannot be chosen to
// collide. A wrong answer needs two live keys sharing all 64 bits of the hash
// (about n·2⁻⁶⁴ per lookup for n cached decisions) or a bucket's 62-bit tags
// (8·2⁻⁶² per lookup).
type decisionCache struct {
	seed    maphash.Seed
	buckets []decisionBucket
	mask    uint64 // len(buckets) - 1
	gens    []atomic.Uint32
	genMask uint64
	epoch   atomic.Uint32
}

const bucketWays = 8

// decisionBucket is one 64-byte cache line of entries; 0 is an empty entry.
type decisionBucket struct {
	entries [bucketWays]atomic.Uint64
}

// An entry holds its tag in bits 2–63 and these flags in bits 0–1: the
// decision, and "the subject holds roles" (stored by Check, so that a refusal
// names what is missing without a second lookup).
const (
	valAllow = 1
	valRoles = 2
	valFlags = valAllow | valRoles // what get returns and put stores
)

// verdict is the flags of a lone decision.
func verdict(allowed bool) uint64 {
	if allowed {
		return valAllow
	}
	return 0
}

// genSlots is the number of tenant generation slots (64 KiB).
const genSlots = 1 << 14

func newDecisionCache(size int) *decisionCache {
	n := uint64(1)
	if b := uint64(size+bucketWays-1) / bucketWays; b > 1 {
		n = 1 << bits.Len64(b-1)
	}
	buckets, free := allocBuckets(int(n))
	c := &decisionCache{
		seed:    maphash.MakeSeed(),
		buckets: buckets,
		mask:    n - 1,
		gens:    make([]atomic.Uint32, genSlots),
		genMask: genSlots - 1,
	}
	if free != nil {
		// The table lives outside the Go heap: unmap it with the cache.
		runtime.AddCleanup(c, func(f func()) { f() }, free)
	}
	return c
}

// capacity is the most decisions the cache holds.
func (c *decisionCache) capacity() int { return len(c.buckets) * bucketWays }

// key returns the hash of a decision. It starts loading the decision's bucket
// (see prefetch) before it returns.
func (c *decisionCache) key(tenantID, subject, resource, action, ch string) uint64 {
	var mh maphash.Hash
	mh.SetSeed(c.seed)
	for _, s := range [...]string{tenantID, subject, resource, action, ch} {
		writePart(&mh, s)
	}
	h := mh.Sum64()
	c.prefetch(h)
	return h
}

// checkKey returns the hash of a whole Check, and starts loading its bucket.
func (c *decisionCache) checkKey(tenantID, subject string, need []Permission, channels []string) uint64 {
	var mh maphash.Hash
	mh.SetSeed(c.seed)
	writePart(&mh, checkTag)
	writePart(&mh, tenantID)
	writePart(&mh, subject)
	writeCount(&mh, len(need))
	for _, p := range need {
		writePart(&mh, p.Resource)
		writePart(&mh, p.Operation)
	}
	writeCount(&mh, len(channels))
	for _, ch := range channels {
		writePart(&mh, ch)
	}
	h := mh.Sum64()
	c.prefetch(h)
	return h
}

// prefetch reads h's bucket and drops the value: with many tenants the bucket
// is rarely in the CPU cache, and the load is issued before the tenant's
// slot is hashed and its generation read, so that work overlaps the miss
// instead of following it (an atomic load is never optimized away). The
// bucket depends on the key alone, not on the generation, for that reason.
func (c *decisionCache) prefetch(h uint64) {
	c.buckets[h&c.mask].entries[0].Load()
}

// writePart hashes s with its length first, so that no two sequences of
// parts hash the same bytes.
func writePart(mh *maphash.Hash, s string) {
	writeCount(mh, len(s))
	_, _ = mh.WriteString(s)
}

func writeCount(mh *maphash.Hash, n int) {
	b := [4]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	_, _ = mh.Write(b[:])
}

// slot is tenantID's generation slot.
func (c *decisionCache) slot(tenantID string) uint64 {
	return maphash.String(c.seed, tenantID) & c.genMask
}

// gen returns the current generation of slot (the epoch and the slot's
// counter). Read it before deciding: a decision stored under a generation
// that a change has since bumped is never answered.
func (c *decisionCache) gen(slot uint64) uint64 {
	return uint64(c.epoch.Load())<<32 | uint64(c.gens[slot].Load())
}

// tag is the entry of h under gen without its flags: the key mixed with the
// generation (murmur3's finalizer, a bijection, so distinct inputs never
// share all 64 bits), never 0, which marks an empty entry.
func tag(h, gen uint64) uint64 {
	x := h ^ (gen+1)*0x9e3779b97f4a7c15
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	if x &^= valFlags; x == 0 {
		x = valFlags + 1
	}
	return x
}

// get returns the flags (valAllow, valRoles) stored for h under gen.
func (c *decisionCache) get(h, gen uint64) (flags uint64, ok bool) {
	b := &c.buckets[h&c.mask]
	t := tag(h, gen)
	for i := range b.entries {
		if e := b.entries[i].Load(); e&^valFlags == t {
			return e & valFlags, true
		}
	}
	return 0, false
}

// put stores flags (valAllow, valRoles) for h under gen: over the key's own
// entry, else an empty one, else one chosen at random (entries of an older
// generation cannot be told from live ones; at the default size most buckets
// have room).
func (c *decisionCache) put(h, gen, flags uint64) {
	b := &c.buckets[h&c.mask]
	t := tag(h, gen)
	v := t | flags&valFlags
	empty := -1
	for i := range b.entries {
		e := b.entries[i].Load()
		if e&^valFlags == t {
			if e != v {
				b.entries[i].Store(v)
			}
			return
		}
		if e == 0 && empty < 0 {
			empty = i
		}
	}
	if empty >= 0 && b.entries[empty].CompareAndSwap(0, v) {
		return
	}
	b.entries[rand.IntN(bucketWays)].Store(v)
}

// forget makes every decision of tenantID's slot a miss.
func (c *decisionCache) forget(slot uint64) { c.gens[slot].Add(1) }

// purge makes every decision a miss.
func (c *decisionCache) purge() { c.epoch.Add(1) }

// len counts the valid entries (for tests).
func (c *decisionCache) len() int {
	n := 0
	for i := range c.buckets {
		for j := range c.buckets[i].entries {
			if c.buckets[i].entries[j].Load() != 0 {
				n++
			}
		}
	}
	return n
}
