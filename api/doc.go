// Package api is Gatehouse's HTTP surface: the Gin router, the middleware
// chain in request-flow order (recovery, tracing, request id, access log,
// tenant, authenticate), and the mounting of the route families (authroutes,
// admin, store, platform). The /t/{slug}/ prefix serves every tenant route.
// It may import auth, rbac, tenants, observability and ent; nothing imports it
// but cmd.
package api
