// The wire shapes the console reads (Medusa's, as Gatehouse sends them).

export interface User {
  id: string
  email: string
  first_name: string | null
  last_name: string | null
  created_at: string
}

export interface Invite {
  id: string
  email: string
  accepted: boolean
  token?: string
  expires_at: string
  roles?: string[]
  created_at: string
}

export interface SalesChannel {
  id: string
  name: string
  description: string | null
  is_disabled: boolean
  created_at: string
  publishable_api_keys?: { id: string; title: string }[]
}

export interface ApiKey {
  id: string
  title: string
  token: string
  redacted: string
  type: "secret" | "publishable"
  last_used_at: string | null
  created_by: string
  revoked_at: string | null
  created_at: string
  sales_channels?: { id: string; name: string }[]
}

export interface Role {
  id: string
  name: string
  description: string | null
  parent_id: string | null
  created_at: string
}

/** A role as GET /admin/rbac/roles/assignable lists it. */
export type AssignableRole = Pick<Role, "id" | "name" | "description">

export interface Policy {
  id: string
  key: string
  resource: string
  operation: string
  name: string | null
  description: string | null
}

export interface RolePolicy {
  id: string
  role_id: string
  policy_id: string
  policy: Policy | null
}

export interface AuditEvent {
  id: string
  created_at: string
  actor_type: string
  actor_id: string
  action: string
  target_type: string
  target_id: string
  result: string
  status: number
  ip: string
  user_agent: string
  request_id: string
}

export interface MFAFactor {
  id: string
  provider: string
  status: "pending" | "enabled" | "disabled"
  label: string | null
  created_at: string
}

export interface MFAChallenge {
  id: string
  methods: string[]
  expires_at: string
}

export interface Tenant {
  id: string
  slug: string
  name: string
  status: "active" | "suspended"
  settings: Record<string, unknown>
  domains: string[]
  created_at: string
}

export interface Page<T> {
  items: T[]
  count: number
  offset: number
  limit: number
}
