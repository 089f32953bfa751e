// Package auth owns credentials: password hashing, JWT issue/verify with per-tenant keys, API keys, sessions and revocations. It may import tenants, ent, observability and audit.
package auth
