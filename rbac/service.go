package rbac

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/apikey"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/ent/rbacassignment"
	"github.com/gatehousehq/gatehouse/ent/rbacpolicy"
	"github.com/gatehousehq/gatehouse/ent/rbacrole"
	"github.com/gatehousehq/gatehouse/ent/rbacrolepolicy"
	"github.com/gatehousehq/gatehouse/ent/user"
	"github.com/gatehousehq/gatehouse/tenants"
)

func newID(prefix string) string {
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String()
}

// Service manages a tenant's roles, policies and assignments (Medusa's RBAC
// module and workflows) with their escalation guards, and tells the
// Authorizer about every change.
type Service struct {
	db    *ent.Client
	authz *Authorizer
}

// NewService returns the RBAC service.
func NewService(db *ent.Client, authz *Authorizer) *Service { return &Service{db: db, authz: authz} }

// Authorizer returns the authorizer the service keeps in sync.
func (s *Service) Authorizer() *Authorizer { return s.authz }

// Errors with Medusa's messages.
var (
	ErrForbidden        = gatehouse.Errorf(gatehouse.EFORBIDDEN, "Forbidden")
	errPolicyEscalation = gatehouse.Errorf(gatehouse.EFORBIDDEN, "You do not have access to some of the policies you are trying to assign.")
	errRoleEscalation   = gatehouse.Errorf(gatehouse.EFORBIDDEN, "You do not have permission to assign these roles")
	errLastSuperAdmin   = gatehouse.Errorf(gatehouse.ENOTALLOWED, "The last super admin of a tenant cannot lose the role_super_admin role")
	errSuperAdminFixed  = gatehouse.Errorf(gatehouse.ENOTALLOWED, "The role_super_admin role cannot be deleted or have its policies or parent changed")
)

func roleNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Role with id: %s not found", id)
}

func policyNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Policy with id: %s not found", id)
}

func (s *Service) changed(ctx context.Context) {
	if id, ok := tenants.IDFromContext(ctx); ok {
		s.authz.Changed(ctx, id)
	}
}

// inTx runs fn in a transaction and announces the change after commit.
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Client) error) error {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return fmt.Errorf("rbac: %w", err)
	}
	if err := fn(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rbac commit: %w", err)
	}
	s.changed(ctx)
	return nil
}

// ---- roles ----

// RoleFilter selects roles.
type RoleFilter struct {
	Q                     string
	IDs, Names, ParentIDs []string // any of each
	Dates                 gatehouse.Dates
	Order                 gatehouse.ListOrder // from RoleOrderFields; zero: oldest first
	Offset, Limit         int
}

// RoleOrderFields are the fields role lists sort by (?order=).
var RoleOrderFields = map[string]string{
	"id": rbacrole.FieldRoleID, "name": rbacrole.FieldName, "description": rbacrole.FieldDescription,
	"created_at": rbacrole.FieldCreatedAt, "updated_at": rbacrole.FieldUpdatedAt,
}

// FindRoles returns a page of the tenant's roles and the total count.
func (s *Service) FindRoles(ctx context.Context, f RoleFilter) ([]*ent.RBACRole, int, error) {
	q := s.roleQuery(f)
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count roles: %w", err)
	}
	rs, err := q.Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	return rs, n, nil
}

// roleQuery selects the roles of f (not its page), in list order.
func (s *Service) roleQuery(f RoleFilter) *ent.RBACRoleQuery {
	q := s.db.RBACRole.Query()
	if f.Q != "" {
		q = q.Where(rbacrole.Or(rbacrole.NameContainsFold(f.Q), rbacrole.DescriptionContainsFold(f.Q)))
	}
	if len(f.Names) > 0 {
		q = q.Where(rbacrole.NameIn(f.Names...))
	}
	if len(f.ParentIDs) > 0 {
		q = q.Where(rbacrole.ParentIDIn(f.ParentIDs...))
	}
	if len(f.IDs) > 0 {
		q = q.Where(rbacrole.RoleIDIn(f.IDs...))
	}
	q = q.Where(gatehouse.DatePredicates[predicate.RBACRole](f.Dates)...)
	return q.Order(gatehouse.OrderTerms[rbacrole.OrderOption](f.Order, ent.Asc(rbacrole.FieldCreatedAt), ent.Asc(rbacrole.FieldRoleID))...)
}

// AssignableRoles returns the page f asks for of the roles of f that actor
// may assign, and how many there are: those whose every policy, their
// parents' included, actor holds (Medusa's GET /admin/rbac/roles/assignable;
// AssignRoles refuses the others). A role without policies grants nothing,
// so anyone may assign it; an actor without roles may assign no other.
func (s *Service) AssignableRoles(ctx context.Context, actor string, f RoleFilter) ([]*ent.RBACRole, int, error) {
	roles, err := s.roleQuery(f).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	parents, err := s.db.RBACRole.Query().All(ctx) // parents may lie outside f
	if err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	parent := make(map[string]string, len(parents))
	for _, r := range parents {
		if r.ParentID != nil {
			parent[r.RoleID] = *r.ParentID
		}
	}
	links, err := s.db.RBACRolePolicy.Query().All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("role policies: %w", err)
	}
	pols, err := s.db.RBACPolicy.Query().All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list policies: %w", err)
	}
	byID := make(map[string]*ent.RBACPolicy, len(pols))
	for _, p := range pols {
		byID[p.PolicyID] = p
	}
	granted := map[string][]*ent.RBACPolicy{}
	for _, l := range links {
		if p := byID[l.PolicyID]; p != nil {
			granted[l.RoleID] = append(granted[l.RoleID], p)
		}
	}
	held := s.holds(ctx, actor)
	var out []*ent.RBACRole
	for _, r := range roles {
		ok := true
		seen := map[string]bool{}
		for cur := r.RoleID; ok && cur != "" && !seen[cur]; cur = parent[cur] {
			seen[cur] = true
			for _, p := range granted[cur] {
				if ok, err = held(p); err != nil {
					return nil, 0, err
				} else if !ok {
					break
				}
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return gatehouse.PageOf(out, f.Offset, f.Limit), len(out), nil
}

// holds returns a function telling whether actor holds a policy (as mayGrant
// decides it: a wildcard policy only through the same wildcard), each
// answered once.
func (s *Service) holds(ctx context.Context, actor string) func(*ent.RBACPolicy) (bool, error) {
	known := map[Permission]bool{}
	return func(p *ent.RBACPolicy) (bool, error) {
		perm := Permission{p.Resource, p.Operation}
		if ok, done := known[perm]; done {
			return ok, nil
		}
		err := s.mayGrant(ctx, actor, []*ent.RBACPolicy{p}, ErrForbidden)
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
			return false, err
		}
		known[perm] = err == nil
		return err == nil, nil
	}
}

// FindRoleByID returns a role by its role id. Errors: not_found.
func (s *Service) FindRoleByID(ctx context.Context, id string) (*ent.RBACRole, error) {
	return findRole(ctx, s.db, id)
}

func findRole(ctx context.Context, db *ent.Client, id string) (*ent.RBACRole, error) {
	r, err := db.RBACRole.Query().Where(rbacrole.RoleID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, roleNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find role: %w", err)
	}
	return r, nil
}

// RoleInput creates a role.
type RoleInput struct {
	Name        string
	ParentID    *string
	Description *string
	Metadata    map[string]any
	PolicyIDs   []string
}

// CreateRole makes a role, optionally with policies and a parent. The actor
// must hold every policy it grants this way. Errors: invalid, duplicate,
// not_found (unknown policies or parent), forbidden (escalation).
func (s *Service) CreateRole(ctx context.Context, actor string, in RoleInput) (*ent.RBACRole, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Field 'name' is required")
	}
	// Checks read outside the transaction: the Authorizer may need to load
	// the tenant, and SQLite has a single connection.
	pols, err := findPolicies(ctx, s.db, in.PolicyIDs)
	if err != nil {
		return nil, err
	}
	if in.ParentID != nil && *in.ParentID != "" {
		inherited, err := rolePolicies(ctx, s.db, *in.ParentID)
		if err != nil {
			return nil, err
		}
		pols = append(pols, inherited...)
	}
	if err := s.mayGrant(ctx, actor, pols, errPolicyEscalation); err != nil {
		return nil, err
	}
	var out *ent.RBACRole
	err = s.inTx(ctx, func(tx *ent.Client) error {
		c := tx.RBACRole.Create().SetRoleID(newID("role")).SetName(in.Name).SetNillableDescription(in.Description)
		if in.ParentID != nil && *in.ParentID != "" {
			c.SetParentID(*in.ParentID)
		}
		if in.Metadata != nil {
			c.SetMetadata(in.Metadata)
		}
		r, err := c.Save(ctx)
		if ent.IsConstraintError(err) {
			return gatehouse.Errorf(gatehouse.EDUPLICATE, "Role with name %s already exists.", in.Name)
		}
		if err != nil {
			return fmt.Errorf("create role: %w", err)
		}
		if err := linkPolicies(ctx, tx, r.RoleID, in.PolicyIDs); err != nil {
			return err
		}
		audit.SetTarget(ctx, r.RoleID)
		out = r
		return nil
	})
	return out, err
}

// RoleUpdate changes a role; nil fields are left as they are. ClearParent
// removes the parent.
type RoleUpdate struct {
	Name, Description, ParentID *string
	SetDescription, SetParent   bool
	Metadata                    map[string]any
	SetMetadata                 bool
}

// UpdateRole changes a role. A new parent must exist, must not make a cycle,
// and the actor must hold every policy it brings. Errors: not_found, invalid,
// duplicate, forbidden, not_allowed (role_super_admin's parent).
func (s *Service) UpdateRole(ctx context.Context, actor, id string, in RoleUpdate) (*ent.RBACRole, error) {
	if in.SetParent && in.ParentID != nil && *in.ParentID != "" && id != RoleSuperAdmin {
		inherited, err := rolePolicies(ctx, s.db, *in.ParentID)
		if err != nil {
			return nil, err
		}
		if err := s.mayGrant(ctx, actor, inherited, errPolicyEscalation); err != nil {
			return nil, err
		}
	}
	var out *ent.RBACRole
	err := s.inTx(ctx, func(tx *ent.Client) error {
		r, err := tx.RBACRole.Query().Where(rbacrole.RoleID(id)).Only(ctx)
		if ent.IsNotFound(err) {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "Role with id \"%s\" not found", id)
		}
		if err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		u := tx.RBACRole.UpdateOne(r)
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if name == "" {
				return gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Field 'name' cannot be empty")
			}
			u.SetName(name)
		}
		if in.SetDescription {
			if in.Description == nil {
				u.ClearDescription()
			} else {
				u.SetDescription(*in.Description)
			}
		}
		if in.SetMetadata {
			if in.Metadata == nil {
				u.ClearMetadata()
			} else {
				u.SetMetadata(in.Metadata)
			}
		}
		if in.SetParent {
			if r.RoleID == RoleSuperAdmin {
				return errSuperAdminFixed
			}
			if in.ParentID == nil || *in.ParentID == "" {
				u.ClearParentID()
			} else {
				if err := checkNoCycle(ctx, tx, r.RoleID, *in.ParentID); err != nil {
					return err
				}
				u.SetParentID(*in.ParentID)
			}
		}
		out, err = u.Save(ctx)
		if ent.IsConstraintError(err) {
			return gatehouse.Errorf(gatehouse.EDUPLICATE, "Role with name %s already exists.", *in.Name)
		}
		if err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		return nil
	})
	return out, err
}

// checkNoCycle refuses parent for role when role is parent or one of its
// ancestors. Errors: not_found (parent), invalid (cycle).
func checkNoCycle(ctx context.Context, db *ent.Client, role, parent string) error {
	seen := map[string]bool{}
	for cur := parent; cur != ""; {
		if cur == role {
			return gatehouse.Errorf(gatehouse.EINVALID, "Role %s cannot have %s as parent: roles would inherit from each other", role, parent)
		}
		if seen[cur] {
			return nil // an existing cycle above us; not ours to report
		}
		seen[cur] = true
		r, err := findRole(ctx, db, cur)
		if err != nil {
			return err
		}
		if r.ParentID == nil {
			return nil
		}
		cur = *r.ParentID
	}
	return nil
}

// DeleteRole deletes a role with its policy links and assignments; its
// children lose their parent. role_super_admin cannot be deleted. Deleting an
// unknown id succeeds (Medusa). Errors: not_allowed.
func (s *Service) DeleteRole(ctx context.Context, id string) error {
	if id == RoleSuperAdmin {
		return errSuperAdminFixed
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		if _, err := tx.RBACRolePolicy.Delete().Where(rbacrolepolicy.RoleID(id)).Exec(ctx); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if _, err := tx.RBACAssignment.Delete().Where(rbacassignment.RoleID(id)).Exec(ctx); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if _, err := tx.RBACRole.Update().Where(rbacrole.ParentID(id)).ClearParentID().Save(ctx); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if _, err := tx.RBACRole.Delete().Where(rbacrole.RoleID(id)).Exec(ctx); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		return nil
	})
}

// ---- policies ----

// PolicyFilter selects policies.
type PolicyFilter struct {
	Q                                string
	IDs, Keys, Resources, Operations []string // any of each
	Dates                            gatehouse.Dates
	Order                            gatehouse.ListOrder // from PolicyOrderFields; zero: by key
	Offset, Limit                    int
}

// PolicyOrderFields are the fields policy lists sort by (?order=).
var PolicyOrderFields = map[string]string{
	"id": rbacpolicy.FieldPolicyID, "key": rbacpolicy.FieldKey, "resource": rbacpolicy.FieldResource,
	"operation": rbacpolicy.FieldOperation, "name": rbacpolicy.FieldName, "description": rbacpolicy.FieldDescription,
	"created_at": rbacpolicy.FieldCreatedAt, "updated_at": rbacpolicy.FieldUpdatedAt,
}

// FindPolicies returns a page of the tenant's policies and the total count.
func (s *Service) FindPolicies(ctx context.Context, f PolicyFilter) ([]*ent.RBACPolicy, int, error) {
	q := s.policyQuery(f)
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count policies: %w", err)
	}
	ps, err := q.Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list policies: %w", err)
	}
	return ps, n, nil
}

// AssignablePolicies returns the page f asks for of the policies of f that
// actor may grant (to a role it creates or changes), and how many there are
// (Medusa's GET /admin/rbac/policies/assignable): the policies it holds, a
// wildcard policy only through the same wildcard.
func (s *Service) AssignablePolicies(ctx context.Context, actor string, f PolicyFilter) ([]*ent.RBACPolicy, int, error) {
	ps, err := s.policyQuery(f).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list policies: %w", err)
	}
	held := s.holds(ctx, actor)
	var out []*ent.RBACPolicy
	for _, p := range ps {
		ok, err := held(p)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return gatehouse.PageOf(out, f.Offset, f.Limit), len(out), nil
}

// policyQuery selects the policies of f (not its page), in list order.
func (s *Service) policyQuery(f PolicyFilter) *ent.RBACPolicyQuery {
	q := s.db.RBACPolicy.Query()
	if f.Q != "" {
		q = q.Where(rbacpolicy.Or(rbacpolicy.KeyContainsFold(f.Q), rbacpolicy.NameContainsFold(f.Q)))
	}
	if len(f.Keys) > 0 {
		q = q.Where(rbacpolicy.KeyIn(f.Keys...))
	}
	if len(f.Resources) > 0 {
		q = q.Where(rbacpolicy.ResourceIn(f.Resources...))
	}
	if len(f.Operations) > 0 {
		q = q.Where(rbacpolicy.OperationIn(f.Operations...))
	}
	if len(f.IDs) > 0 {
		q = q.Where(rbacpolicy.PolicyIDIn(f.IDs...))
	}
	q = q.Where(gatehouse.DatePredicates[predicate.RBACPolicy](f.Dates)...)
	return q.Order(gatehouse.OrderTerms[rbacpolicy.OrderOption](f.Order, ent.Asc(rbacpolicy.FieldKey))...)
}

// FindPolicyByID returns a policy by its policy id. Errors: not_found.
func (s *Service) FindPolicyByID(ctx context.Context, id string) (*ent.RBACPolicy, error) {
	p, err := s.db.RBACPolicy.Query().Where(rbacpolicy.PolicyID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, policyNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find policy: %w", err)
	}
	return p, nil
}

// findPolicies returns the policies with these ids. Errors: not_found
// (Medusa's "The following policies do not exist").
func findPolicies(ctx context.Context, db *ent.Client, ids []string) ([]*ent.RBACPolicy, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ps, err := db.RBACPolicy.Query().Where(rbacpolicy.PolicyIDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("find policies: %w", err)
	}
	have := map[string]bool{}
	for _, p := range ps {
		have[p.PolicyID] = true
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "The following policies do not exist: %s", strings.Join(missing, ", "))
	}
	return ps, nil
}

// rolePolicies returns the policies a role holds, its ancestors' included.
// Errors: not_found (role).
func rolePolicies(ctx context.Context, db *ent.Client, roleID string) ([]*ent.RBACPolicy, error) {
	var ids []string
	seen := map[string]bool{}
	for cur := roleID; cur != "" && !seen[cur]; {
		seen[cur] = true
		r, err := findRole(ctx, db, cur)
		if err != nil {
			return nil, err
		}
		links, err := db.RBACRolePolicy.Query().Where(rbacrolepolicy.RoleID(cur)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("role policies: %w", err)
		}
		for _, l := range links {
			ids = append(ids, l.PolicyID)
		}
		cur = ""
		if r.ParentID != nil {
			cur = *r.ParentID
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return db.RBACPolicy.Query().Where(rbacpolicy.PolicyIDIn(ids...)).All(ctx)
}

// mayGrant checks that actor holds every policy in pols; an actor without
// any role gets "Forbidden", one lacking a policy gets deny. An empty actor
// is the system (CLI, bootstrap) and may grant anything.
func (s *Service) mayGrant(ctx context.Context, actor string, pols []*ent.RBACPolicy, deny error) error {
	if actor == "" || len(pols) == 0 {
		return nil
	}
	need := make([]Permission, 0, len(pols))
	for _, p := range pols {
		need = append(need, Permission{p.Resource, p.Operation})
	}
	missing, err := s.authz.Check(ctx, actor, need)
	if err == ErrNoRoles {
		return ErrForbidden
	}
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return deny
	}
	return nil
}

// RolePolicy is a policy granted to a role, with the link's id.
type RolePolicy struct {
	Link   *ent.RBACRolePolicy
	Policy *ent.RBACPolicy
}

// FindRolePolicies returns a page of the policies linked to a role (not its
// parents'). Errors: not_found.
func (s *Service) FindRolePolicies(ctx context.Context, roleID string, offset, limit int) ([]RolePolicy, int, error) {
	if _, err := s.FindRoleByID(ctx, roleID); err != nil {
		return nil, 0, err
	}
	q := s.db.RBACRolePolicy.Query().Where(rbacrolepolicy.RoleID(roleID))
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count role policies: %w", err)
	}
	links, err := q.Order(ent.Asc(rbacrolepolicy.FieldCreatedAt), ent.Asc(rbacrolepolicy.FieldID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list role policies: %w", err)
	}
	ids := make([]string, 0, len(links))
	for _, l := range links {
		ids = append(ids, l.PolicyID)
	}
	ps, err := s.db.RBACPolicy.Query().Where(rbacpolicy.PolicyIDIn(ids...)).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list role policies: %w", err)
	}
	byID := map[string]*ent.RBACPolicy{}
	for _, p := range ps {
		byID[p.PolicyID] = p
	}
	out := make([]RolePolicy, 0, len(links))
	for _, l := range links {
		out = append(out, RolePolicy{Link: l, Policy: byID[l.PolicyID]})
	}
	return out, n, nil
}

// AddRolePolicies grants policies to a role; the actor must hold them all.
// Errors: not_found, forbidden, not_allowed (role_super_admin).
func (s *Service) AddRolePolicies(ctx context.Context, actor, roleID string, policyIDs []string) error {
	if roleID == RoleSuperAdmin {
		return errSuperAdminFixed
	}
	if _, err := findRole(ctx, s.db, roleID); err != nil {
		return err
	}
	pols, err := findPolicies(ctx, s.db, policyIDs)
	if err != nil {
		return err
	}
	if err := s.mayGrant(ctx, actor, pols, errPolicyEscalation); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error { return linkPolicies(ctx, tx, roleID, policyIDs) })
}

func linkPolicies(ctx context.Context, db *ent.Client, roleID string, policyIDs []string) error {
	if len(policyIDs) == 0 {
		return nil
	}
	have, err := db.RBACRolePolicy.Query().Where(rbacrolepolicy.RoleID(roleID)).All(ctx)
	if err != nil {
		return fmt.Errorf("link policies: %w", err)
	}
	seen := map[string]bool{}
	for _, l := range have {
		seen[l.PolicyID] = true
	}
	var bulk []*ent.RBACRolePolicyCreate
	for _, id := range policyIDs {
		if !seen[id] {
			seen[id] = true
			bulk = append(bulk, db.RBACRolePolicy.Create().SetRoleID(roleID).SetPolicyID(id))
		}
	}
	if len(bulk) == 0 {
		return nil
	}
	if err := db.RBACRolePolicy.CreateBulk(bulk...).Exec(ctx); err != nil {
		return fmt.Errorf("link policies: %w", err)
	}
	return nil
}

// RemoveRolePolicy takes a policy from a role and returns the removed link's
// id. Errors: not_found, not_allowed (role_super_admin).
func (s *Service) RemoveRolePolicy(ctx context.Context, roleID, policyID string) (string, error) {
	if roleID == RoleSuperAdmin {
		return "", errSuperAdminFixed
	}
	var linkID string
	err := s.inTx(ctx, func(tx *ent.Client) error {
		l, err := tx.RBACRolePolicy.Query().Where(rbacrolepolicy.RoleID(roleID), rbacrolepolicy.PolicyID(policyID)).Only(ctx)
		if ent.IsNotFound(err) {
			if _, err := findRole(ctx, tx, roleID); err != nil {
				return err
			}
			return policyNotFound(policyID)
		}
		if err != nil {
			return fmt.Errorf("remove role policy: %w", err)
		}
		linkID = l.ID
		return tx.RBACRolePolicy.DeleteOne(l).Exec(ctx)
	})
	return linkID, err
}

// ---- assignments ----

// splitSubject parses "user:ID" or "apikey:ID".
func splitSubject(subject string) (rbacassignment.SubjectType, string, error) {
	typ, id, ok := strings.Cut(subject, ":")
	if !ok || id == "" || (typ != "user" && typ != "apikey") {
		return "", "", fmt.Errorf("rbac: bad subject %q", subject)
	}
	return rbacassignment.SubjectType(typ), id, nil
}

// checkSubject makes sure the user or secret key exists. Errors: not_found,
// invalid (publishable key).
func checkSubject(ctx context.Context, db *ent.Client, subject string) error {
	typ, id, err := splitSubject(subject)
	if err != nil {
		return err
	}
	switch typ {
	case rbacassignment.SubjectTypeUser:
		ok, err := db.User.Query().Where(user.ID(id)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		if !ok {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "User with id: %s was not found", id)
		}
	default:
		k, err := db.APIKey.Query().Where(apikey.ID(id), apikey.DeletedAtIsNil()).Only(ctx)
		if ent.IsNotFound(err) {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "API Key with id: %s was not found", id)
		}
		if err != nil {
			return fmt.Errorf("find api key: %w", err)
		}
		if k.Type != apikey.TypeSecret {
			return gatehouse.Errorf(gatehouse.EINVALID, "Roles can only be assigned to secret API keys")
		}
	}
	return nil
}

// SubjectRoles returns the roles assigned to a user or key. Errors:
// not_found.
func (s *Service) SubjectRoles(ctx context.Context, subject string) ([]*ent.RBACRole, error) {
	if err := checkSubject(ctx, s.db, subject); err != nil {
		return nil, err
	}
	ids, err := roleIDs(ctx, s.db, subject)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []*ent.RBACRole{}, nil
	}
	return s.db.RBACRole.Query().Where(rbacrole.RoleIDIn(ids...)).Order(ent.Asc(rbacrole.FieldRoleID)).All(ctx)
}

func roleIDs(ctx context.Context, db *ent.Client, subject string) ([]string, error) {
	typ, id, err := splitSubject(subject)
	if err != nil {
		return nil, err
	}
	as, err := db.RBACAssignment.Query().Where(rbacassignment.SubjectTypeEQ(typ), rbacassignment.SubjectID(id)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("subject roles: %w", err)
	}
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.RoleID)
	}
	sort.Strings(out)
	return out, nil
}

// RoleIDs returns the role ids assigned to subject, sorted (for tokens'
// app_metadata.roles and for copying a creator's roles to a new key).
func (s *Service) RoleIDs(ctx context.Context, subject string) ([]string, error) {
	return roleIDs(ctx, s.db, subject)
}

// CheckAssignable checks that roles exist and that actor holds every policy
// they (and their parents) grant. Errors: not_found, forbidden.
func (s *Service) CheckAssignable(ctx context.Context, actor string, roles []string) error {
	return s.checkAssignable(ctx, s.db, actor, roles)
}

func (s *Service) checkAssignable(ctx context.Context, db *ent.Client, actor string, roles []string) error {
	var pols []*ent.RBACPolicy
	for _, r := range roles {
		ps, err := rolePolicies(ctx, db, r)
		if err != nil {
			return err
		}
		pols = append(pols, ps...)
	}
	return s.mayGrant(ctx, actor, pols, errRoleEscalation)
}

// AssignRoles gives roles to a user or secret key; the actor must hold every
// policy they grant. Errors: not_found, invalid, forbidden.
func (s *Service) AssignRoles(ctx context.Context, actor, subject string, roles []string) error {
	if err := checkSubject(ctx, s.db, subject); err != nil {
		return err
	}
	if err := s.checkAssignable(ctx, s.db, actor, roles); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error { return assign(ctx, tx, subject, roles) })
}

// AssignTx gives roles to subject inside tx without an escalation check: for
// trusted paths (the CLI's first admin, an accepted invite whose roles were
// checked when it was made, a new key copying its creator's roles). Unknown
// roles are an error. Call Changed after the commit.
func (s *Service) AssignTx(ctx context.Context, tx *ent.Client, subject string, roles []string) error {
	for _, r := range roles {
		if _, err := findRole(ctx, tx, r); err != nil {
			return err
		}
	}
	return assign(ctx, tx, subject, roles)
}

// RemoveSubjectTx drops every assignment of a deleted user or key inside tx.
// Deleting the last user holding role_super_admin is refused. Call Changed
// after the commit. Errors: not_allowed.
func (s *Service) RemoveSubjectTx(ctx context.Context, tx *ent.Client, subject string) error {
	typ, id, err := splitSubject(subject)
	if err != nil {
		return err
	}
	where := []predicate.RBACAssignment{rbacassignment.SubjectTypeEQ(typ), rbacassignment.SubjectID(id)}
	super, err := tx.RBACAssignment.Query().Where(append(where, rbacassignment.RoleID(RoleSuperAdmin))...).Exist(ctx)
	if err != nil {
		return fmt.Errorf("remove subject: %w", err)
	}
	if _, err := tx.RBACAssignment.Delete().Where(where...).Exec(ctx); err != nil {
		return fmt.Errorf("remove subject: %w", err)
	}
	if super && typ == rbacassignment.SubjectTypeUser {
		left, err := tx.RBACAssignment.Query().Where(rbacassignment.RoleID(RoleSuperAdmin),
			rbacassignment.SubjectTypeEQ(rbacassignment.SubjectTypeUser)).Count(ctx)
		if err != nil {
			return fmt.Errorf("remove subject: %w", err)
		}
		if left == 0 {
			return errLastSuperAdmin
		}
	}
	return nil
}

// Changed announces a change to the tenant in ctx made outside Service.
func (s *Service) Changed(ctx context.Context) { s.changed(ctx) }

func assign(ctx context.Context, db *ent.Client, subject string, roles []string) error {
	typ, id, err := splitSubject(subject)
	if err != nil {
		return err
	}
	have, err := roleIDs(ctx, db, subject)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range have {
		seen[r] = true
	}
	var bulk []*ent.RBACAssignmentCreate
	for _, r := range roles {
		if !seen[r] {
			seen[r] = true
			bulk = append(bulk, db.RBACAssignment.Create().SetSubjectType(typ).SetSubjectID(id).SetRoleID(r))
		}
	}
	if len(bulk) == 0 {
		return nil
	}
	if err := db.RBACAssignment.CreateBulk(bulk...).Exec(ctx); err != nil {
		return fmt.Errorf("assign roles: %w", err)
	}
	return nil
}

// UnassignRoles takes roles from a user or key and returns the roles that
// were removed. The last user holding role_super_admin keeps it. Errors:
// not_found, not_allowed.
func (s *Service) UnassignRoles(ctx context.Context, subject string, roles []string) ([]string, error) {
	typ, id, err := splitSubject(subject)
	if err != nil {
		return nil, err
	}
	var removed []string
	err = s.inTx(ctx, func(tx *ent.Client) error {
		if err := checkSubject(ctx, tx, subject); err != nil {
			return err
		}
		super := false
		for _, r := range roles {
			super = super || r == RoleSuperAdmin
		}
		if super && typ == rbacassignment.SubjectTypeUser {
			// Touching the role row serializes concurrent removals (row lock on
			// PostgreSQL, one writer on SQLite), so two admins cannot each
			// remove the other and leave the tenant without a super admin.
			if _, err := tx.RBACRole.Update().Where(rbacrole.RoleID(RoleSuperAdmin)).SetUpdatedAt(time.Now()).Save(ctx); err != nil {
				return fmt.Errorf("unassign roles: %w", err)
			}
		}
		as, err := tx.RBACAssignment.Query().Where(rbacassignment.SubjectTypeEQ(typ), rbacassignment.SubjectID(id),
			rbacassignment.RoleIDIn(roles...)).All(ctx)
		if err != nil {
			return fmt.Errorf("unassign roles: %w", err)
		}
		for _, a := range as {
			removed = append(removed, a.RoleID)
			if err := tx.RBACAssignment.DeleteOne(a).Exec(ctx); err != nil {
				return fmt.Errorf("unassign roles: %w", err)
			}
		}
		if super && typ == rbacassignment.SubjectTypeUser {
			left, err := tx.RBACAssignment.Query().Where(rbacassignment.RoleID(RoleSuperAdmin),
				rbacassignment.SubjectTypeEQ(rbacassignment.SubjectTypeUser)).Count(ctx)
			if err != nil {
				return fmt.Errorf("unassign roles: %w", err)
			}
			if left == 0 {
				return errLastSuperAdmin
			}
		}
		return nil
	})
	return removed, err
}

// Permissions returns the policy keys subject holds among the tenant's
// policies, wildcards expanded, sorted (GET /admin/rbac/me/permissions).
func (s *Service) Permissions(ctx context.Context, subject string) ([]string, error) {
	ps, err := s.db.RBACPolicy.Query().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	out := []string{}
	for _, p := range ps {
		if p.Resource == "*" || p.Operation == "*" {
			continue
		}
		ok, err := s.authz.Allowed(ctx, subject, p.Resource, p.Operation)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p.Key)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ---- policy management and role members ----

var errSuperAdminPolicyFixed = gatehouse.Errorf(gatehouse.ENOTALLOWED, "The rpol_super_admin policy cannot be deleted or changed")

// PolicyInput creates a policy.
type PolicyInput struct {
	Key, Resource, Operation string
	Name, Description        *string
	Metadata                 map[string]any
}

// CreatePolicy makes a policy; it grants nothing until linked to a role.
// Errors: invalid, duplicate (key).
func (s *Service) CreatePolicy(ctx context.Context, in PolicyInput) (*ent.RBACPolicy, error) {
	in.Key, in.Resource, in.Operation = strings.TrimSpace(in.Key), strings.TrimSpace(in.Resource), strings.TrimSpace(in.Operation)
	for _, f := range []struct{ name, v string }{{"key", in.Key}, {"resource", in.Resource}, {"operation", in.Operation}} {
		if f.v == "" {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Field '%s' is required", f.name)
		}
	}
	var out *ent.RBACPolicy
	err := s.inTx(ctx, func(tx *ent.Client) error {
		c := tx.RBACPolicy.Create().SetPolicyID(newID("rpol")).SetKey(in.Key).SetResource(in.Resource).
			SetOperation(in.Operation).SetNillableName(in.Name).SetNillableDescription(in.Description)
		if in.Metadata != nil {
			c.SetMetadata(in.Metadata)
		}
		p, err := c.Save(ctx)
		if ent.IsConstraintError(err) {
			return gatehouse.Errorf(gatehouse.EDUPLICATE, "Policy with key %s already exists.", in.Key)
		}
		if err != nil {
			return fmt.Errorf("create policy: %w", err)
		}
		audit.SetTarget(ctx, p.PolicyID)
		out = p
		return nil
	})
	return out, err
}

// PolicyUpdate changes a policy; nil fields are left as they are.
type PolicyUpdate struct {
	Key, Resource, Operation *string
	Name, Description        *string
	SetName, SetDescription  bool
	Metadata                 map[string]any
	SetMetadata              bool
}

// UpdatePolicy changes a policy. Changing its resource or operation changes
// what every role holding it grants, so the actor must hold the new
// permission. rpol_super_admin cannot be changed. Errors: not_found, invalid,
// duplicate, forbidden, not_allowed.
func (s *Service) UpdatePolicy(ctx context.Context, actor, id string, in PolicyUpdate) (*ent.RBACPolicy, error) {
	if id == PolicySuperAdmin {
		return nil, errSuperAdminPolicyFixed
	}
	cur, err := s.db.RBACPolicy.Query().Where(rbacpolicy.PolicyID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "Policy with id \"%s\" not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("update policy: %w", err)
	}
	trimmed := func(p *string, field string) (*string, error) {
		if p == nil {
			return nil, nil
		}
		v := strings.TrimSpace(*p)
		if v == "" {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Field '%s' cannot be empty", field)
		}
		return &v, nil
	}
	if in.Key, err = trimmed(in.Key, "key"); err != nil {
		return nil, err
	}
	if in.Resource, err = trimmed(in.Resource, "resource"); err != nil {
		return nil, err
	}
	if in.Operation, err = trimmed(in.Operation, "operation"); err != nil {
		return nil, err
	}
	if (in.Resource != nil && *in.Resource != cur.Resource) || (in.Operation != nil && *in.Operation != cur.Operation) {
		next := &ent.RBACPolicy{Resource: cur.Resource, Operation: cur.Operation}
		if in.Resource != nil {
			next.Resource = *in.Resource
		}
		if in.Operation != nil {
			next.Operation = *in.Operation
		}
		if err := s.mayGrant(ctx, actor, []*ent.RBACPolicy{next}, errPolicyEscalation); err != nil {
			return nil, err
		}
	}
	var out *ent.RBACPolicy
	err = s.inTx(ctx, func(tx *ent.Client) error {
		p, err := tx.RBACPolicy.Query().Where(rbacpolicy.PolicyID(id)).Only(ctx)
		if ent.IsNotFound(err) {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "Policy with id \"%s\" not found", id)
		}
		if err != nil {
			return fmt.Errorf("update policy: %w", err)
		}
		u := tx.RBACPolicy.UpdateOne(p)
		if in.Key != nil {
			u.SetKey(*in.Key)
		}
		if in.Resource != nil {
			u.SetResource(*in.Resource)
		}
		if in.Operation != nil {
			u.SetOperation(*in.Operation)
		}
		if in.SetName {
			if in.Name == nil {
				u.ClearName()
			} else {
				u.SetName(*in.Name)
			}
		}
		if in.SetDescription {
			if in.Description == nil {
				u.ClearDescription()
			} else {
				u.SetDescription(*in.Description)
			}
		}
		if in.SetMetadata {
			if in.Metadata == nil {
				u.ClearMetadata()
			} else {
				u.SetMetadata(in.Metadata)
			}
		}
		out, err = u.Save(ctx)
		if ent.IsConstraintError(err) {
			return gatehouse.Errorf(gatehouse.EDUPLICATE, "Policy with key %s already exists.", *in.Key)
		}
		if err != nil {
			return fmt.Errorf("update policy: %w", err)
		}
		return nil
	})
	return out, err
}

// DeletePolicy deletes a policy and takes it from every role holding it.
// rpol_super_admin cannot be deleted. Errors: not_found, not_allowed.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	if id == PolicySuperAdmin {
		return errSuperAdminPolicyFixed
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		n, err := tx.RBACPolicy.Delete().Where(rbacpolicy.PolicyID(id)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		if n == 0 {
			return policyNotFound(id)
		}
		if _, err := tx.RBACRolePolicy.Delete().Where(rbacrolepolicy.PolicyID(id)).Exec(ctx); err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		return nil
	})
}

// FindPolicyRoles returns a page of the roles holding a policy directly and
// their total count. Errors: not_found.
func (s *Service) FindPolicyRoles(ctx context.Context, policyID string, offset, limit int) ([]*ent.RBACRole, int, error) {
	if _, err := s.FindPolicyByID(ctx, policyID); err != nil {
		return nil, 0, err
	}
	links, err := s.db.RBACRolePolicy.Query().Where(rbacrolepolicy.PolicyID(policyID)).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("policy roles: %w", err)
	}
	ids := make([]string, 0, len(links))
	for _, l := range links {
		ids = append(ids, l.RoleID)
	}
	q := s.db.RBACRole.Query().Where(rbacrole.RoleIDIn(ids...))
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("policy roles: %w", err)
	}
	rs, err := q.Order(ent.Asc(rbacrole.FieldCreatedAt), ent.Asc(rbacrole.FieldRoleID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("policy roles: %w", err)
	}
	return rs, n, nil
}

// FindRoleUsers returns a page of the users holding a role and their total
// count. Errors: not_found.
func (s *Service) FindRoleUsers(ctx context.Context, roleID string, userIDs []string, offset, limit int) ([]*ent.User, int, error) {
	if _, err := findRole(ctx, s.db, roleID); err != nil {
		return nil, 0, err
	}
	as, err := s.db.RBACAssignment.Query().Where(rbacassignment.RoleID(roleID),
		rbacassignment.SubjectTypeEQ(rbacassignment.SubjectTypeUser)).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("role users: %w", err)
	}
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.SubjectID)
	}
	q := s.db.User.Query().Where(user.IDIn(ids...))
	if userIDs != nil {
		q = q.Where(user.IDIn(userIDs...))
	}
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("role users: %w", err)
	}
	us, err := q.Order(ent.Asc(user.FieldCreatedAt), ent.Asc(user.FieldID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("role users: %w", err)
	}
	return us, n, nil
}

// AssignRoleUsers gives a role to users; the actor must hold every policy it
// grants. Errors: not_found (role, users), forbidden.
func (s *Service) AssignRoleUsers(ctx context.Context, actor, roleID string, users []string) error {
	if _, err := findRole(ctx, s.db, roleID); err != nil {
		return err
	}
	for _, u := range users {
		if err := checkSubject(ctx, s.db, UserSubject(u)); err != nil {
			return err
		}
	}
	if err := s.checkAssignable(ctx, s.db, actor, []string{roleID}); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		for _, u := range users {
			if err := assign(ctx, tx, UserSubject(u), []string{roleID}); err != nil {
				return err
			}
		}
		return nil
	})
}

// UnassignRoleUsers takes a role from users. The last user holding
// role_super_admin keeps it. Errors: not_found (role, users), not_allowed.
func (s *Service) UnassignRoleUsers(ctx context.Context, roleID string, users []string) error {
	return s.inTx(ctx, func(tx *ent.Client) error {
		if _, err := findRole(ctx, tx, roleID); err != nil {
			return err
		}
		for _, u := range users {
			if err := checkSubject(ctx, tx, UserSubject(u)); err != nil {
				return err
			}
		}
		super := roleID == RoleSuperAdmin
		if super {
			// Serializes concurrent removals, as in UnassignRoles.
			if _, err := tx.RBACRole.Update().Where(rbacrole.RoleID(RoleSuperAdmin)).SetUpdatedAt(time.Now()).Save(ctx); err != nil {
				return fmt.Errorf("unassign role users: %w", err)
			}
		}
		if _, err := tx.RBACAssignment.Delete().Where(rbacassignment.RoleID(roleID),
			rbacassignment.SubjectTypeEQ(rbacassignment.SubjectTypeUser), rbacassignment.SubjectIDIn(users...)).Exec(ctx); err != nil {
			return fmt.Errorf("unassign role users: %w", err)
		}
		if super {
			left, err := tx.RBACAssignment.Query().Where(rbacassignment.RoleID(RoleSuperAdmin),
				rbacassignment.SubjectTypeEQ(rbacassignment.SubjectTypeUser)).Count(ctx)
			if err != nil {
				return fmt.Errorf("unassign role users: %w", err)
			}
			if left == 0 {
				return errLastSuperAdmin
			}
		}
		return nil
	})
}
