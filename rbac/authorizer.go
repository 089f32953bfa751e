package rbac

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

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
// loaded on first use through the Ent adapter and held in a bounded LRU, each
// with its own decision cache. Any change to a tenant's roles, policies or
// assignments drops that tenant's enforcer and cache here and, through the
// Bus, on every other node.
type Authorizer struct {
	db        *ent.Client
	bus       tenants.Bus
	model     model.Model
	enforcers *lru.Cache[string, *tenantEnforcer]
	decisions int
	stop      func()
	loads     atomic.Int64
}

// Options configures an Authorizer.
type Options struct {
	Bus       tenants.Bus // nil: this node only
	Tenants   int         // enforcers kept in memory (default 10,000)
	Decisions int         // decisions cached per tenant (default 4,096)
}

// NewAuthorizer returns an Authorizer over db.
func NewAuthorizer(db *ent.Client, opt Options) (*Authorizer, error) {
	if opt.Tenants <= 0 {
		opt.Tenants = 10000
	}
	if opt.Decisions <= 0 {
		opt.Decisions = 4096
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("rbac model: %w", err)
	}
	c, err := lru.New[string, *tenantEnforcer](opt.Tenants)
	if err != nil {
		return nil, err
	}
	return &Authorizer{db: db, bus: opt.Bus, model: m, enforcers: c, decisions: opt.Decisions}, nil
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

func (a *Authorizer) forget(tenantID string) {
	if tenantID == "*" {
		a.enforcers.Purge()
		return
	}
	a.enforcers.Remove(tenantID)
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

// tenantEnforcer is one tenant's enforcer and decision cache. The enforcer is
// never changed after loading: a change replaces the whole entry.
type tenantEnforcer struct {
	once sync.Once
	err  error

	mu sync.Mutex // Casbin's enforcer and role manager are not safe for concurrent use
	e  *casbin.Enforcer

	cmu       sync.RWMutex
	decisions map[decisionKey]bool
	roles     map[string][]string
	max       int
}

// decisionKey is one cached decision of a tenant.
type decisionKey struct{ subject, resource, action string }

func (a *Authorizer) newTenantEnforcer() *tenantEnforcer {
	return &tenantEnforcer{decisions: map[decisionKey]bool{}, roles: map[string][]string{}, max: a.decisions}
}

func (a *Authorizer) enforcer(ctx context.Context) (*tenantEnforcer, string, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return nil, "", tenants.ErrNoTenant
	}
	if !tenants.BusFresh(a.bus) {
		// Change messages may be missed: decide on the policies as they
		// are in the database now, and cache nothing.
		te := a.newTenantEnforcer()
		te.e, te.err = a.load(ctx, tenantID)
		if te.err != nil {
			return nil, "", te.err
		}
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
	te, tenantID, err := a.enforcer(ctx)
	if err != nil {
		return false, err
	}
	key := decisionKey{subject, resource, action}
	te.cmu.RLock()
	d, ok := te.decisions[key]
	te.cmu.RUnlock()
	if ok {
		return d, nil
	}
	te.mu.Lock()
	d, err = te.e.Enforce(subject, tenantID, resource, action)
	te.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("rbac enforce: %w", err)
	}
	te.cmu.Lock()
	if len(te.decisions) >= te.max {
		clear(te.decisions)
	}
	te.decisions[key] = d
	te.cmu.Unlock()
	return d, nil
}

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

// Check returns the permissions of need that subject lacks (nil: allowed), or
// ErrNoRoles when it has no role at all.
func (a *Authorizer) Check(ctx context.Context, subject string, need []Permission) ([]Permission, error) {
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
	return missing, nil
}
