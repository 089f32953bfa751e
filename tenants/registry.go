package tenants

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/domain"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/ent/tenant"
)

// Errors returned by the Registry.
var (
	ErrNotFound  = &gatehouse.Error{Code: gatehouse.ENOTFOUND, Message: "Unknown tenant"}
	ErrSuspended = &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Type: "not_allowed", Message: "Tenant is suspended"}
)

// ChangesChannel is the Bus channel on which tenant changes are announced.
const ChangesChannel = "tenants:changed"

// Bus carries cache-invalidation messages between nodes. auth.Store
// implementations satisfy it (Redis pub/sub, or this process only).
type Bus interface {
	Publish(ctx context.Context, channel, msg string) error
	Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error)
}

// FreshBus is a Bus that knows whether its messages are arriving (auth's
// CachedStore tracks its own heartbeats). While Fresh is false a change made
// on another node may not have been announced here, so caches fed by the Bus
// are bypassed: every read goes to the database. A Bus without Fresh is
// trusted, as is no Bus at all (a single node).
type FreshBus interface {
	Bus
	Fresh() bool
}

// BusFresh reports whether caches fed by b may be trusted now.
func BusFresh(b Bus) bool {
	if f, ok := b.(FreshBus); ok {
		return f.Fresh()
	}
	return true
}

// CreateHook runs inside the transaction that creates a tenant, with a context
// scoped to the new tenant: signing keys and built-in roles are made there, so
// a tenant never exists half-made.
type CreateHook func(ctx context.Context, tx *ent.Client, t *ent.Tenant) error

// Registry finds, creates and changes tenants, with an in-process cache that is
// invalidated at once on this node and through the Bus on the others.
type Registry struct {
	db         *ent.Client
	baseDomain string
	bus        Bus
	hooks      []CreateHook

	byID    *expirable.LRU[string, *ent.Tenant]
	byKey   *expirable.LRU[lookupKey, string] // slug acme / host shop.acme.test → id
	missing *expirable.LRU[lookupKey, struct{}]
	stop    func()
	// gen changes on every forget: a database read that began before a
	// change was announced must not be cached after it.
	gen atomic.Uint64
}

// Options configures a Registry.
type Options struct {
	BaseDomain string // tenants are also reached at {slug}.{BaseDomain}
	CacheSize  int    // tenants kept in memory (default 10,000)
	// CacheTTL bounds how long a cached tenant is trusted without a change
	// message (default 30 s).
	CacheTTL time.Duration
	Bus      Bus // nil: this node only
}

// NewRegistry returns a Registry over db.
func NewRegistry(db *ent.Client, opt Options) *Registry {
	if opt.CacheSize <= 0 {
		opt.CacheSize = 10000
	}
	// Entries also expire, so a change message lost between nodes (Redis
	// restarted, a partition) leaves a suspended tenant served elsewhere for
	// at most CacheTTL, not until eviction.
	if opt.CacheTTL <= 0 {
		opt.CacheTTL = 30 * time.Second
	}
	byID := expirable.NewLRU[string, *ent.Tenant](opt.CacheSize, nil, opt.CacheTTL)
	byKey := expirable.NewLRU[lookupKey, string](opt.CacheSize*3, nil, opt.CacheTTL)
	return &Registry{
		db:         db,
		baseDomain: strings.ToLower(strings.Trim(opt.BaseDomain, ".")),
		bus:        opt.Bus,
		byID:       byID,
		byKey:      byKey,
		// A short-lived negative cache keeps a flood of unknown hosts from
		// becoming a flood of queries; creates clear it.
		missing: expirable.NewLRU[lookupKey, struct{}](10000, nil, 2*time.Second),
	}
}

// OnCreate adds a hook run in the creation transaction of every tenant.
func (r *Registry) OnCreate(h CreateHook) { r.hooks = append(r.hooks, h) }

// Start subscribes to tenant changes from other nodes.
func (r *Registry) Start(ctx context.Context) error {
	if r.bus == nil {
		return nil
	}
	stop, err := r.bus.Subscribe(ctx, ChangesChannel, func(id string) { r.forget(id) })
	if err != nil {
		return fmt.Errorf("subscribe to tenant changes: %w", err)
	}
	r.stop = stop
	return nil
}

// Close stops the subscription.
func (r *Registry) Close() {
	if r.stop != nil {
		r.stop()
	}
}

// createdMsg announces a new tenant. Only the negative cache can be wrong
// about a tenant that did not exist, so this message purges just that and
// leaves the cached tenants alone: with 10,000 tenants, emptying every node's
// cache on each creation would turn it into thousands of cold lookups.
// (Nodes that predate it read it as an unknown id, which does the same.)
const createdMsg = "+"

func (r *Registry) forget(id string) {
	r.gen.Add(1)
	r.missing.Purge()
	switch id {
	case createdMsg:
		return
	case "*":
		r.byID.Purge()
		r.byKey.Purge()
		return
	}
	r.byID.Remove(id)
	for _, k := range r.byKey.Keys() {
		if v, ok := r.byKey.Peek(k); ok && v == id {
			r.byKey.Remove(k)
		}
	}
}

// changed drops id from this node's cache and tells the other nodes.
func (r *Registry) changed(ctx context.Context, id string) {
	r.forget(id)
	if r.bus != nil {
		// Best effort: a lost message leaves another node's cache stale
		// until the entry expires (CacheTTL).
		_ = r.bus.Publish(ctx, ChangesChannel, id)
	}
}

// reservedSlugs cannot be tenants: they are path or host names of the platform.
var reservedSlugs = map[string]bool{"www": true, "platform": true, "api": true, "t": true}

// ValidSlug reports whether s can name a tenant: 1-63 lower-case letters,
// digits and inner hyphens (^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$), not
// reserved. It runs on every request, hence no regexp.
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return !reservedSlugs[s]
}

var hostRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// NormalizeHost lower-cases host and strips a port and a trailing dot.
func NormalizeHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(host, ".")
}

// CreateInput describes a new tenant.
type CreateInput struct {
	Slug     string
	Name     string
	Domains  []string
	Settings map[string]any
}

// Create makes a tenant with its domains and runs the create hooks, all in one
// transaction. Errors: invalid (bad slug, name, domain or settings),
// duplicate (slug or domain taken).
func (r *Registry) Create(ctx context.Context, in CreateInput) (*ent.Tenant, error) {
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	if !ValidSlug(in.Slug) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid tenant slug %q: use 1-63 lower-case letters, digits and hyphens", in.Slug)
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Tenant name is required (at most 200 characters)")
	}
	hosts := make([]string, 0, len(in.Domains))
	for _, d := range in.Domains {
		h := NormalizeHost(d)
		if !hostRE.MatchString(h) || len(h) > 253 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid domain %q", d)
		}
		hosts = append(hosts, h)
	}
	if in.Settings == nil {
		in.Settings = map[string]any{}
	}
	if err := ValidateSettings(in.Settings); err != nil {
		return nil, err
	}
	sys := SystemContext(ctx, "create tenant")
	tx, err := r.db.Tx(sys)
	if err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	t, err := tx.Tenant.Create().SetSlug(in.Slug).SetName(in.Name).SetSettings(in.Settings).Save(sys)
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, gatehouse.Errorf(gatehouse.EDUPLICATE, "Tenant with slug %s already exists.", in.Slug)
		}
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	for _, h := range hosts {
		if _, err := tx.Domain.Create().SetHost(h).SetTenantID(t.ID).Save(sys); err != nil {
			_ = tx.Rollback()
			if ent.IsConstraintError(err) {
				return nil, gatehouse.Errorf(gatehouse.EDUPLICATE, "Domain with host %s already exists.", h)
			}
			return nil, fmt.Errorf("create domain: %w", err)
		}
	}
	tctx := WithTenant(ctx, t.ID)
	for _, h := range r.hooks {
		if err := h(tctx, tx.Client(), t); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("create tenant %s: %w", t.Slug, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	r.changed(ctx, createdMsg)
	return r.FindByID(ctx, t.ID)
}

// FindByID returns the tenant with its domains. Errors: not_found.
func (r *Registry) FindByID(ctx context.Context, id string) (*ent.Tenant, error) {
	if !plausibleID(id) {
		// No tenant has it, and the database need not be asked: text it
		// cannot store (a NUL, bytes that are not UTF-8) would fail the
		// query and read as "directory unavailable".
		return nil, ErrNotFound
	}
	fresh := BusFresh(r.bus)
	if fresh {
		if t, ok := r.byID.Get(id); ok {
			return t, nil
		}
	}
	gen := r.gen.Load()
	t, err := r.db.Tenant.Query().Where(tenant.ID(id)).WithDomains().Only(SystemContext(ctx, "find tenant"))
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EUNAVAILABLE, err, "The tenant directory is unavailable")
	}
	if fresh && r.gen.Load() == gen {
		r.byID.Add(id, t)
	}
	return t, nil
}

// plausibleID reports whether id could be a tenant id: ASCII letters, digits
// and underscores, at most 64 of them.
func plausibleID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// FindBySlugOrID returns the tenant whose id or slug is s. Errors: not_found.
func (r *Registry) FindBySlugOrID(ctx context.Context, s string) (*ent.Tenant, error) {
	if strings.HasPrefix(s, "ten_") {
		return r.FindByID(ctx, s)
	}
	return r.lookup(ctx, lookupKey{bySlug, strings.ToLower(s)})
}

func (r *Registry) findByHost(ctx context.Context, host string) (*ent.Tenant, error) {
	return r.lookup(ctx, lookupKey{byHost, host})
}

// lookupKey names a tenant by slug or by domain in the registry's caches (a
// struct, not "slug:"+name: a cached resolution allocates nothing).
type lookupKey struct {
	by   lookupBy
	name string
}

type lookupBy uint8

const (
	bySlug lookupBy = iota
	byHost
)

// where is the query of k, built only when the caches miss.
func (k lookupKey) where() predicate.Tenant {
	if k.by == byHost {
		return tenant.HasDomainsWith(domain.Host(k.name))
	}
	return tenant.Slug(k.name)
}

func (r *Registry) lookup(ctx context.Context, key lookupKey) (*ent.Tenant, error) {
	fresh := BusFresh(r.bus)
	if fresh {
		if id, ok := r.byKey.Get(key); ok {
			return r.FindByID(ctx, id)
		}
		if _, ok := r.missing.Get(key); ok {
			return nil, ErrNotFound
		}
	}
	gen := r.gen.Load()
	id, err := r.db.Tenant.Query().Where(key.where()).OnlyID(SystemContext(ctx, "resolve tenant"))
	if ent.IsNotFound(err) {
		if fresh && r.gen.Load() == gen {
			r.missing.Add(key, struct{}{})
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EUNAVAILABLE, err, "The tenant directory is unavailable")
	}
	if fresh && r.gen.Load() == gen {
		r.byKey.Add(key, id)
	}
	return r.FindByID(ctx, id)
}

// Request is what a request offers to name its tenant, in resolution order.
type Request struct {
	Host     string // the Host header
	PathSlug string // from a /t/{slug}/ prefix
	HeaderID string // the x-tenant-id header (id or slug)
}

// Resolve finds the tenant of a request: (1) Host equals a tenant domain,
// (2) Host is {slug}.{base domain}, (3) the /t/{slug} path prefix, (4) the
// x-tenant-id header. Errors: not_found ("Unknown tenant"), forbidden
// (suspended), unavailable.
func (r *Registry) Resolve(ctx context.Context, req Request) (*ent.Tenant, error) {
	t, err := r.resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	if t.Status == tenant.StatusSuspended {
		return nil, ErrSuspended
	}
	return t, nil
}

func (r *Registry) resolve(ctx context.Context, req Request) (*ent.Tenant, error) {
	host := NormalizeHost(req.Host)
	if host != "" && net.ParseIP(host) == nil {
		t, err := r.findByHost(ctx, host)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return t, err
		}
		if r.baseDomain != "" && strings.HasSuffix(host, "."+r.baseDomain) {
			slug := strings.TrimSuffix(host, "."+r.baseDomain)
			if ValidSlug(slug) {
				t, err := r.FindBySlugOrID(ctx, slug)
				if err == nil || !errors.Is(err, ErrNotFound) {
					return t, err
				}
			}
		}
	}
	if req.PathSlug != "" {
		if !ValidSlug(req.PathSlug) {
			return nil, ErrNotFound
		}
		return r.FindBySlugOrID(ctx, req.PathSlug)
	}
	if h := strings.TrimSpace(req.HeaderID); h != "" {
		if !strings.HasPrefix(h, "ten_") && !ValidSlug(strings.ToLower(h)) || len(h) > 64 {
			return nil, ErrNotFound
		}
		return r.FindBySlugOrID(ctx, h)
	}
	return nil, ErrNotFound
}

// ListFilter selects tenants.
type ListFilter struct {
	Q      string
	Offset int
	Limit  int
}

// List returns a page of tenants (with domains) and the total count.
func (r *Registry) List(ctx context.Context, f ListFilter) ([]*ent.Tenant, int, error) {
	ctx = SystemContext(ctx, "list tenants")
	q := r.db.Tenant.Query()
	if f.Q != "" {
		q = q.Where(tenant.Or(tenant.SlugContains(strings.ToLower(f.Q)), tenant.NameContainsFold(f.Q)))
	}
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count tenants: %w", err)
	}
	ts, err := q.WithDomains().Order(ent.Asc(tenant.FieldCreatedAt), ent.Asc(tenant.FieldID)).
		Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list tenants: %w", err)
	}
	return ts, count, nil
}

// SetStatus suspends or resumes a tenant. Errors: not_found.
func (r *Registry) SetStatus(ctx context.Context, id string, status tenant.Status) (*ent.Tenant, error) {
	n, err := r.db.Tenant.Update().Where(tenant.ID(id)).SetStatus(status).Save(SystemContext(ctx, "set tenant status"))
	if err != nil {
		return nil, fmt.Errorf("set tenant status: %w", err)
	}
	if n == 0 {
		return nil, ErrNotFound
	}
	r.changed(ctx, id)
	return r.FindByID(ctx, id)
}

// UpdateInput changes a tenant's name or settings (nil leaves a field as is).
type UpdateInput struct {
	Name     *string
	Settings map[string]any
}

// Update changes a tenant. Errors: not_found, invalid.
func (r *Registry) Update(ctx context.Context, id string, in UpdateInput) (*ent.Tenant, error) {
	u := r.db.Tenant.Update().Where(tenant.ID(id))
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || len(name) > 200 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "Tenant name is required (at most 200 characters)")
		}
		u.SetName(name)
	}
	if in.Settings != nil {
		if err := ValidateSettings(in.Settings); err != nil {
			return nil, err
		}
		u.SetSettings(in.Settings)
	}
	n, err := u.Save(SystemContext(ctx, "update tenant"))
	if err != nil {
		return nil, fmt.Errorf("update tenant: %w", err)
	}
	if n == 0 {
		return nil, ErrNotFound
	}
	r.changed(ctx, id)
	return r.FindByID(ctx, id)
}

// AddDomain links host to the tenant. Errors: not_found, invalid, duplicate.
func (r *Registry) AddDomain(ctx context.Context, id, host string) (*ent.Tenant, error) {
	h := NormalizeHost(host)
	if !hostRE.MatchString(h) || len(h) > 253 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid domain %q", host)
	}
	if _, err := r.FindByID(ctx, id); err != nil {
		return nil, err
	}
	if _, err := r.db.Domain.Create().SetHost(h).SetTenantID(id).Save(SystemContext(ctx, "add domain")); err != nil {
		if ent.IsConstraintError(err) {
			return nil, gatehouse.Errorf(gatehouse.EDUPLICATE, "Domain with host %s already exists.", h)
		}
		return nil, fmt.Errorf("add domain: %w", err)
	}
	r.changed(ctx, id)
	return r.FindByID(ctx, id)
}

// RemoveDomain unlinks host from the tenant. Errors: not_found.
func (r *Registry) RemoveDomain(ctx context.Context, id, host string) (*ent.Tenant, error) {
	h := NormalizeHost(host)
	n, err := r.db.Domain.Delete().Where(domain.Host(h), domain.TenantID(id)).Exec(SystemContext(ctx, "remove domain"))
	if err != nil {
		return nil, fmt.Errorf("remove domain: %w", err)
	}
	if n == 0 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "Domain %s not found", h)
	}
	r.changed(ctx, id)
	return r.FindByID(ctx, id)
}

// Delete removes a tenant and everything it owns. Errors: not_found.
func (r *Registry) Delete(ctx context.Context, id string) error {
	if _, err := r.FindByID(ctx, id); err != nil {
		return err
	}
	tctx := WithTenant(ctx, id)
	tx, err := r.db.Tx(tctx)
	if err != nil {
		return fmt.Errorf("delete tenant: %w", err)
	}
	if err := deleteOwned(tctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("delete tenant: %w", err)
	}
	sys := SystemContext(ctx, "delete tenant")
	if _, err := tx.Domain.Delete().Where(domain.TenantID(id)).Exec(sys); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("delete tenant domains: %w", err)
	}
	if err := tx.Tenant.DeleteOneID(id).Exec(sys); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("delete tenant: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete tenant: %w", err)
	}
	r.changed(ctx, id)
	return nil
}
