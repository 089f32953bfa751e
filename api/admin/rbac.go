package admin

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/rbac"
)

type roleJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	ParentID    *string        `json:"parent_id"`
	Description *string        `json:"description"`
	Metadata    map[string]any `json:"metadata"`
	CreatedAt   string         `json:"created_at"`
	UpdatedAt   string         `json:"updated_at"`
	DeletedAt   *string        `json:"deleted_at"`
}

func toRole(r *ent.RBACRole) roleJSON {
	return roleJSON{ID: r.RoleID, Name: r.Name, ParentID: r.ParentID, Description: r.Description, Metadata: r.Metadata,
		CreatedAt: isoTime(r.CreatedAt), UpdatedAt: isoTime(r.UpdatedAt)}
}

func toRoles(rs []*ent.RBACRole) []roleJSON {
	out := make([]roleJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRole(r))
	}
	return out
}

type policyJSON struct {
	ID          string         `json:"id"`
	Key         string         `json:"key"`
	Resource    string         `json:"resource"`
	Operation   string         `json:"operation"`
	Name        *string        `json:"name"`
	Description *string        `json:"description"`
	Metadata    map[string]any `json:"metadata"`
	CreatedAt   string         `json:"created_at"`
	UpdatedAt   string         `json:"updated_at"`
	DeletedAt   *string        `json:"deleted_at"`
}

func toPolicy(p *ent.RBACPolicy) policyJSON {
	return policyJSON{ID: p.PolicyID, Key: p.Key, Resource: p.Resource, Operation: p.Operation, Name: p.Name,
		Description: p.Description, Metadata: p.Metadata, CreatedAt: isoTime(p.CreatedAt), UpdatedAt: isoTime(p.UpdatedAt)}
}

// assignableRoleJSON and assignablePolicyJSON are the fields Medusa's
// /assignable lists return (AdminRbacAssignableRolesListResponse, …).
type assignableRoleJSON struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

type assignablePolicyJSON struct {
	ID          string  `json:"id"`
	Key         string  `json:"key"`
	Resource    string  `json:"resource"`
	Operation   string  `json:"operation"`
	Description *string `json:"description"`
}

type rolePolicyJSON struct {
	ID        string      `json:"id"`
	RoleID    string      `json:"role_id"`
	PolicyID  string      `json:"policy_id"`
	Policy    *policyJSON `json:"policy"`
	CreatedAt string      `json:"created_at"`
	UpdatedAt string      `json:"updated_at"`
	DeletedAt *string     `json:"deleted_at"`
}

func toRolePolicies(rps []rbac.RolePolicy) []rolePolicyJSON {
	out := make([]rolePolicyJSON, 0, len(rps))
	for _, rp := range rps {
		j := rolePolicyJSON{ID: rp.Link.ID, RoleID: rp.Link.RoleID, PolicyID: rp.Link.PolicyID,
			CreatedAt: isoTime(rp.Link.CreatedAt), UpdatedAt: isoTime(rp.Link.UpdatedAt)}
		if rp.Policy != nil {
			p := toPolicy(rp.Policy)
			j.Policy = &p
		}
		out = append(out, j)
	}
	return out
}

// actorSubject is the authorization subject of the request's caller.
func actorSubject(c *gin.Context) string {
	ac, ok := auth.FromContext(c.Request.Context())
	if !ok {
		return ""
	}
	return Subject(ac)
}

// Subject returns the rbac subject of an authenticated admin caller: a user
// or a secret key; "" for anything else.
func Subject(ac *auth.Context) string {
	if ac == nil || ac.ActorID == "" {
		return ""
	}
	switch ac.ActorType {
	case auth.ActorUser:
		return rbac.UserSubject(ac.ActorID)
	case auth.ActorAPIKey:
		return rbac.KeySubject(ac.ActorID)
	}
	return ""
}

// noActor stands for a caller with no subject: it holds no role.
const noActor = "anonymous:"

func callerOrNone(c *gin.Context) string {
	if s := actorSubject(c); s != "" {
		return s
	}
	return noActor
}

type createRoleRequest struct {
	Name        *string        `json:"name"`
	ParentID    *string        `json:"parent_id"`
	Description *string        `json:"description"`
	Metadata    map[string]any `json:"metadata"`
	PolicyIDs   []string       `json:"policy_ids"`
}

func (r *createRoleRequest) Validate() error {
	if r.Name == nil {
		return wire.Invalid("Field 'name' is required")
	}
	return nil
}

type rolesBody struct {
	Roles []string `json:"roles"`
}

func (r *rolesBody) Validate() error {
	if len(r.Roles) == 0 {
		return wire.Invalid("Value for field 'roles' too small, expected at least: '1'")
	}
	return nil
}

type policiesBody struct {
	Policies []string `json:"policies"`
}

func (r *policiesBody) Validate() error {
	if len(r.Policies) == 0 {
		return wire.Invalid("Value for field 'policies' too small, expected at least: '1'")
	}
	return nil
}

type createPolicyRequest struct {
	Key         *string        `json:"key"`
	Resource    *string        `json:"resource"`
	Operation   *string        `json:"operation"`
	Name        *string        `json:"name"`
	Description *string        `json:"description"`
	Metadata    map[string]any `json:"metadata"`
}

func (r *createPolicyRequest) Validate() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"key", r.Key}, {"resource", r.Resource}, {"operation", r.Operation}} {
		if f.v == nil {
			return wire.Invalid("Field '%s' is required", f.name)
		}
	}
	return nil
}

type usersBody struct {
	Users []string `json:"users"`
}

func (r *usersBody) Validate() error {
	if len(r.Users) == 0 {
		return wire.Invalid("Value for field 'users' too small, expected at least: '1'")
	}
	return nil
}

func toUsers(us []*ent.User) []userJSON {
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, toUser(u))
	}
	return out
}

// roleFilter reads the query of the role lists: GET /admin/rbac/roles and
// its assignable subset take the same filters, order and page.
func roleFilter(c *gin.Context) (rbac.RoleFilter, error) {
	p, err := wire.SortedListParams(c, 20, rbac.RoleOrderFields)
	if err != nil {
		return rbac.RoleFilter{}, err
	}
	return rbac.RoleFilter{Q: p.Q, IDs: wire.QueryList(c, "id"), Names: wire.QueryList(c, "name"), ParentIDs: wire.QueryList(c, "parent_id"),
		Dates: p.Dates, Order: p.Order, Offset: p.Offset, Limit: p.Limit}, nil
}

// policyFilter reads the query of the policy lists (all, and assignable).
func policyFilter(c *gin.Context) (rbac.PolicyFilter, error) {
	p, err := wire.SortedListParams(c, 20, rbac.PolicyOrderFields)
	if err != nil {
		return rbac.PolicyFilter{}, err
	}
	return rbac.PolicyFilter{Q: p.Q, IDs: wire.QueryList(c, "id"), Keys: wire.QueryList(c, "key"),
		Resources: wire.QueryList(c, "resource"), Operations: wire.QueryList(c, "operation"),
		Dates: p.Dates, Order: p.Order, Offset: p.Offset, Limit: p.Limit}, nil
}

func registerRBAC(g *gin.RouterGroup, d Deps) {
	r := d.RBAC
	g.GET("/rbac/roles", wire.H(func(c *gin.Context) error {
		f, err := roleFilter(c)
		if err != nil {
			return err
		}
		rs, n, err := r.FindRoles(c.Request.Context(), f)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"roles": toRoles(rs), "count": n, "offset": f.Offset, "limit": f.Limit})
		return nil
	}))
	g.POST("/rbac/roles", wire.H(func(c *gin.Context) error {
		var in createRoleRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		role, err := r.CreateRole(c.Request.Context(), callerOrNone(c), rbac.RoleInput{Name: *in.Name, ParentID: in.ParentID,
			Description: in.Description, Metadata: in.Metadata, PolicyIDs: in.PolicyIDs})
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"role": toRole(role)})
		return nil
	}))
	g.GET("/rbac/roles/assignable", wire.H(func(c *gin.Context) error {
		f, err := roleFilter(c)
		if err != nil {
			return err
		}
		rs, n, err := r.AssignableRoles(c.Request.Context(), callerOrNone(c), f)
		if err != nil {
			return err
		}
		out := make([]assignableRoleJSON, 0, len(rs))
		for _, x := range rs {
			out = append(out, assignableRoleJSON{ID: x.RoleID, Name: x.Name, Description: x.Description})
		}
		c.JSON(http.StatusOK, gin.H{"roles": out, "count": n})
		return nil
	}))
	g.GET("/rbac/roles/:id", wire.H(func(c *gin.Context) error {
		role, err := r.FindRoleByID(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"role": toRole(role)})
		return nil
	}))
	g.POST("/rbac/roles/:id", wire.H(func(c *gin.Context) error {
		var in struct {
			Name        *string         `json:"name"`
			ParentID    json.RawMessage `json:"parent_id"`
			Description json.RawMessage `json:"description"`
			Metadata    json.RawMessage `json:"metadata"`
		}
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		up := rbac.RoleUpdate{Name: in.Name}
		var err error
		if up.ParentID, up.SetParent, err = nullableString(in.ParentID, "parent_id"); err != nil {
			return err
		}
		if up.Description, up.SetDescription, err = nullableString(in.Description, "description"); err != nil {
			return err
		}
		if up.Metadata, up.SetMetadata, err = nullableObject(in.Metadata, "metadata"); err != nil {
			return err
		}
		role, err := r.UpdateRole(c.Request.Context(), callerOrNone(c), c.Param("id"), up)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"role": toRole(role)})
		return nil
	}))
	g.DELETE("/rbac/roles/:id", wire.H(func(c *gin.Context) error {
		if err := r.DeleteRole(c.Request.Context(), c.Param("id")); err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: c.Param("id"), Object: "rbac_role", Deleted: true})
		return nil
	}))
	g.GET("/rbac/roles/:id/policies", wire.H(func(c *gin.Context) error {
		p, err := wire.ListParams(c, 20)
		if err != nil {
			return err
		}
		rps, n, err := r.FindRolePolicies(c.Request.Context(), c.Param("id"), p.Offset, p.Limit)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"policies": toRolePolicies(rps), "count": n, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.POST("/rbac/roles/:id/policies", wire.H(func(c *gin.Context) error {
		var in policiesBody
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		ctx := c.Request.Context()
		if err := r.AddRolePolicies(ctx, callerOrNone(c), c.Param("id"), in.Policies); err != nil {
			return err
		}
		rps, _, err := r.FindRolePolicies(ctx, c.Param("id"), 0, wire.MaxLimit)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"policies": toRolePolicies(rps)})
		return nil
	}))
	g.DELETE("/rbac/roles/:id/policies/:policy_id", wire.H(func(c *gin.Context) error {
		link, err := r.RemoveRolePolicy(c.Request.Context(), c.Param("id"), c.Param("policy_id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: link, Object: "rbac_role_policy", Deleted: true})
		return nil
	}))
	g.GET("/rbac/policies", wire.H(func(c *gin.Context) error {
		f, err := policyFilter(c)
		if err != nil {
			return err
		}
		ps, n, err := r.FindPolicies(c.Request.Context(), f)
		if err != nil {
			return err
		}
		out := make([]policyJSON, 0, len(ps))
		for _, x := range ps {
			out = append(out, toPolicy(x))
		}
		c.JSON(http.StatusOK, gin.H{"policies": out, "count": n, "offset": f.Offset, "limit": f.Limit})
		return nil
	}))
	g.GET("/rbac/policies/assignable", wire.H(func(c *gin.Context) error {
		f, err := policyFilter(c)
		if err != nil {
			return err
		}
		ps, n, err := r.AssignablePolicies(c.Request.Context(), callerOrNone(c), f)
		if err != nil {
			return err
		}
		out := make([]assignablePolicyJSON, 0, len(ps))
		for _, x := range ps {
			out = append(out, assignablePolicyJSON{ID: x.PolicyID, Key: x.Key, Resource: x.Resource, Operation: x.Operation, Description: x.Description})
		}
		c.JSON(http.StatusOK, gin.H{"policies": out, "count": n})
		return nil
	}))
	g.GET("/rbac/policies/:id", wire.H(func(c *gin.Context) error {
		p, err := r.FindPolicyByID(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"policy": toPolicy(p)})
		return nil
	}))
	g.POST("/rbac/policies", wire.H(func(c *gin.Context) error {
		var in createPolicyRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		p, err := r.CreatePolicy(c.Request.Context(), rbac.PolicyInput{Key: *in.Key, Resource: *in.Resource, Operation: *in.Operation,
			Name: in.Name, Description: in.Description, Metadata: in.Metadata})
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"policy": toPolicy(p)})
		return nil
	}))
	g.POST("/rbac/policies/:id", wire.H(func(c *gin.Context) error {
		var in struct {
			Key         *string         `json:"key"`
			Resource    *string         `json:"resource"`
			Operation   *string         `json:"operation"`
			Name        json.RawMessage `json:"name"`
			Description json.RawMessage `json:"description"`
			Metadata    json.RawMessage `json:"metadata"`
		}
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		up := rbac.PolicyUpdate{Key: in.Key, Resource: in.Resource, Operation: in.Operation}
		var err error
		if up.Name, up.SetName, err = nullableString(in.Name, "name"); err != nil {
			return err
		}
		if up.Description, up.SetDescription, err = nullableString(in.Description, "description"); err != nil {
			return err
		}
		if up.Metadata, up.SetMetadata, err = nullableObject(in.Metadata, "metadata"); err != nil {
			return err
		}
		p, err := r.UpdatePolicy(c.Request.Context(), callerOrNone(c), c.Param("id"), up)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"policy": toPolicy(p)})
		return nil
	}))
	g.DELETE("/rbac/policies/:id", wire.H(func(c *gin.Context) error {
		if err := r.DeletePolicy(c.Request.Context(), c.Param("id")); err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: c.Param("id"), Object: "rbac_policy", Deleted: true})
		return nil
	}))
	g.GET("/rbac/policies/:id/roles", wire.H(func(c *gin.Context) error {
		p, err := wire.ListParams(c, 10)
		if err != nil {
			return err
		}
		rs, n, err := r.FindPolicyRoles(c.Request.Context(), c.Param("id"), p.Offset, p.Limit)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"roles": toRoles(rs), "count": n, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.GET("/rbac/roles/:id/users", wire.H(func(c *gin.Context) error {
		p, err := wire.ListParams(c, 20)
		if err != nil {
			return err
		}
		us, n, err := r.FindRoleUsers(c.Request.Context(), c.Param("id"), wire.QueryList(c, "user_id"), p.Offset, p.Limit)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"users": toUsers(us), "count": n, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.POST("/rbac/roles/:id/users", wire.H(func(c *gin.Context) error {
		var in usersBody
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		ctx := c.Request.Context()
		if err := r.AssignRoleUsers(ctx, callerOrNone(c), c.Param("id"), in.Users); err != nil {
			return err
		}
		us, _, err := r.FindRoleUsers(ctx, c.Param("id"), nil, 0, wire.MaxLimit)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"users": toUsers(us)})
		return nil
	}))
	g.DELETE("/rbac/roles/:id/users", wire.H(func(c *gin.Context) error {
		var in usersBody
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		if err := r.UnassignRoleUsers(c.Request.Context(), c.Param("id"), in.Users); err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"ids": in.Users, "object": "role_user", "deleted": true})
		return nil
	}))
	g.GET("/rbac/me/permissions", wire.H(func(c *gin.Context) error {
		ps, err := r.Permissions(c.Request.Context(), callerOrNone(c))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"permissions": ps})
		return nil
	}))

	registerSubjectRoles(g, d, "/users/:id/roles", "user_role", rbac.UserSubject)
	registerSubjectRoles(g, d, "/api-keys/:id/roles", "api_key_role", rbac.KeySubject)
	g.DELETE("/users/:id/roles/:role_id", wire.H(func(c *gin.Context) error {
		if _, err := r.UnassignRoles(c.Request.Context(), rbac.UserSubject(c.Param("id")), []string{c.Param("role_id")}); err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: c.Param("role_id"), Object: "user_role", Deleted: true})
		return nil
	}))
}

// registerSubjectRoles serves GET|POST|DELETE path for users or secret keys.
func registerSubjectRoles(g *gin.RouterGroup, d Deps, path, object string, subject func(string) string) {
	r := d.RBAC
	// Medusa's page of the subject's roles (limit 50), optionally only
	// those of role_id; a subject holds few roles, so the page is cut here.
	list := func(c *gin.Context) error {
		p, err := wire.ListParams(c, 50)
		if err != nil {
			return err
		}
		rs, err := r.SubjectRoles(c.Request.Context(), subject(c.Param("id")))
		if err != nil {
			return err
		}
		if only := wire.QueryList(c, "role_id"); only != nil {
			rs = slices.DeleteFunc(rs, func(role *ent.RBACRole) bool { return !slices.Contains(only, role.RoleID) })
		}
		c.JSON(http.StatusOK, gin.H{"roles": toRoles(gatehouse.PageOf(rs, p.Offset, p.Limit)), "count": len(rs), "offset": p.Offset, "limit": p.Limit})
		return nil
	}
	g.GET(path, wire.H(list))
	g.POST(path, wire.H(func(c *gin.Context) error {
		var in rolesBody
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		if err := r.AssignRoles(c.Request.Context(), callerOrNone(c), subject(c.Param("id")), in.Roles); err != nil {
			return err
		}
		return list(c)
	}))
	g.DELETE(path, wire.H(func(c *gin.Context) error {
		var in rolesBody
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		if _, err := r.UnassignRoles(c.Request.Context(), subject(c.Param("id")), in.Roles); err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"ids": in.Roles, "object": object, "deleted": true})
		return nil
	}))
}
