// Package rbac owns authorization: the Casbin model (RBAC with domains,
// domain = tenant id, embedded from model.conf), the Ent-backed Casbin
// adapter, one enforcer per tenant with a decision cache (Authorizer), and
// Medusa-style roles and policies with their escalation guards (Service). It
// may import tenants, ent, observability and audit; the rest of the code sees
// Authorizer and Service, never Casbin types.
//
// Subjects are "user:{id}" and "apikey:{id}". Every tenant is seeded with
// role_super_admin (*:*), role_admin and role_viewer.
package rbac
