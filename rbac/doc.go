// Package rbac will own authorization: the Casbin model (RBAC with domains,
// domain = tenant id), per-tenant enforcers with a decision cache, the Ent
// adapter, sales-channel scoping and Medusa-style roles and policies. It may
// import tenants, ent and observability.
//
// Not built yet (issue "RBAC with Casbin per tenant"): until then every
// authenticated admin of a tenant, and every secret key, may use every admin
// route of that tenant, as in Medusa with RBAC off.
package rbac
