// Every call the console makes, through @medusajs/js-sdk: its helpers where
// it has one, sdk.client.fetch (still the SDK: same base URL, cookies,
// errors) for Gatehouse's own routes.
import type Medusa from "@medusajs/js-sdk"
import type {
  ApiKey, AssignableRole, AuditEvent, Invite, MFAChallenge, MFAFactor, Page, Policy, Role, RolePolicy, SalesChannel, Tenant, User,
} from "./types"

type Q = Record<string, unknown>

function page<T>(res: any, key: string): Page<T> {
  return { items: (res?.[key] ?? []) as T[], count: res?.count ?? 0, offset: res?.offset ?? 0, limit: res?.limit ?? 0 }
}

/** Drops empty strings and undefined so they are not sent as filters. */
export function compact(q: Q): Q {
  const out: Q = {}
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== "") out[k] = v
  }
  return out
}

export type LoginResult =
  | { kind: "ok" }
  | { kind: "mfa"; challenge: MFAChallenge }

export function tenantApi(sdk: Medusa) {
  const c = sdk.client
  return {
    // ---- session ----
    async login(email: string, password: string): Promise<LoginResult> {
      const res: any = await sdk.auth.login("user", "emailpass", { email, password })
      if (res && typeof res === "object" && res.mfa_required) {
        return { kind: "mfa", challenge: res.mfa_challenge as MFAChallenge }
      }
      if (res && typeof res === "object" && "location" in res) {
        throw new Error("This tenant signs in with a third-party provider, which the console does not support.")
      }
      return { kind: "ok" }
    },
    async verifyChallenge(id: string, method: "totp" | "recovery_code", code: string): Promise<void> {
      await sdk.auth.mfa.verifyChallenge(id, { method, code } as any)
    },
    async logout(): Promise<void> {
      await sdk.auth.logout()
    },
    async logoutAll(): Promise<void> {
      await c.fetch("/auth/logout-all", { method: "POST" })
    },
    async me(): Promise<User> {
      const res: any = await sdk.admin.user.me()
      return res.user
    },
    async permissions(): Promise<string[]> {
      const res: any = await sdk.admin.rbacRole.mePermissions()
      return res.permissions ?? []
    },

    // ---- invites (accepting needs no session) ----
    async acceptInvite(inviteToken: string, input: { email: string; password: string; first_name?: string; last_name?: string }): Promise<User> {
      // Medusa's flow: register the identity, accept the invite with that
      // registration token, then log in.
      const registration = await sdk.auth.register("user", "emailpass", { email: input.email, password: input.password })
      try {
        const res: any = await sdk.admin.invite.accept(
          { invite_token: inviteToken, email: input.email, first_name: input.first_name || undefined, last_name: input.last_name || undefined } as any,
          undefined,
          { authorization: `Bearer ${registration}` },
        )
        return res.user
      } finally {
        await c.clearToken()
      }
    },
    async listInvites(q: Q = {}): Promise<Page<Invite>> {
      return page<Invite>(await sdk.admin.invite.list(compact({ limit: 50, ...q }) as any), "invites")
    },
    async createInvite(email: string, roles: string[]): Promise<Invite> {
      const res: any = await sdk.admin.invite.create({ email, ...(roles.length ? { roles } : {}) } as any)
      return res.invite
    },
    async resendInvite(id: string): Promise<Invite> {
      const res: any = await sdk.admin.invite.resend(id)
      return res.invite
    },
    async deleteInvite(id: string): Promise<void> {
      await sdk.admin.invite.delete(id)
    },

    // ---- users ----
    async listUsers(q: Q = {}): Promise<Page<User>> {
      return page<User>(await sdk.admin.user.list(compact({ limit: 50, ...q }) as any), "users")
    },
    async deleteUser(id: string): Promise<void> {
      await sdk.admin.user.delete(id)
    },
    async userRoles(id: string): Promise<Role[]> {
      const res: any = await sdk.admin.user.listRoles(id)
      return res.roles ?? []
    },
    async addUserRoles(id: string, roles: string[]): Promise<Role[]> {
      const res: any = await sdk.admin.user.addRoles(id, { roles } as any)
      return res.roles ?? []
    },
    async removeUserRole(id: string, roleId: string): Promise<void> {
      await sdk.admin.user.removeRole(id, roleId)
    },
    async changePassword(currentPassword: string, newPassword: string): Promise<User> {
      const res: any = await c.fetch("/admin/users/me/password", {
        method: "POST",
        body: { current_password: currentPassword, new_password: newPassword },
      })
      return res.user
    },

    // ---- API keys ----
    async listApiKeys(q: Q = {}): Promise<Page<ApiKey>> {
      return page<ApiKey>(await sdk.admin.apiKey.list(compact({ limit: 100, ...q }) as any), "api_keys")
    },
    async createApiKey(title: string, type: "secret" | "publishable", salesChannelIds: string[] = []): Promise<ApiKey> {
      const body: Q = { title, type }
      if (salesChannelIds.length) body.sales_channel_ids = salesChannelIds
      const res: any = await sdk.admin.apiKey.create(body as any)
      return res.api_key
    },
    /** revokeApiKey revokes now, or after inSeconds (rotation). */
    async revokeApiKey(id: string, inSeconds = 0): Promise<ApiKey> {
      const res: any = inSeconds > 0
        ? await c.fetch(`/admin/api-keys/${id}/revoke`, { method: "POST", body: { revoke_in: inSeconds } })
        : await c.fetch(`/admin/api-keys/${id}/revoke`, { method: "POST", body: {} })
      return res.api_key
    },
    async deleteApiKey(id: string): Promise<void> {
      await sdk.admin.apiKey.delete(id)
    },
    async linkKeyChannels(id: string, add: string[], remove: string[]): Promise<ApiKey> {
      const res: any = await sdk.admin.apiKey.batchSalesChannels(id, compact({ add: add.length ? add : undefined, remove: remove.length ? remove : undefined }) as any)
      return res.api_key
    },

    // ---- sales channels ----
    async listChannels(q: Q = {}): Promise<Page<SalesChannel>> {
      return page<SalesChannel>(await sdk.admin.salesChannel.list(compact({ limit: 100, ...q }) as any), "sales_channels")
    },
    async createChannel(input: { name: string; description?: string; is_disabled?: boolean }): Promise<SalesChannel> {
      const res: any = await sdk.admin.salesChannel.create(compact(input) as any)
      return res.sales_channel
    },
    async updateChannel(id: string, input: { name?: string; description?: string | null; is_disabled?: boolean }): Promise<SalesChannel> {
      const res: any = await sdk.admin.salesChannel.update(id, input as any)
      return res.sales_channel
    },
    async deleteChannel(id: string): Promise<void> {
      await sdk.admin.salesChannel.delete(id)
    },

    // ---- roles and policies ----
    async listRoles(q: Q = {}): Promise<Page<Role>> {
      return page<Role>(await sdk.admin.rbacRole.list(compact({ limit: 100, ...q }) as any), "roles")
    },
    /** The roles the signed-in admin may assign (it holds all their policies): what the role pickers offer. */
    async listAssignableRoles(): Promise<AssignableRole[]> {
      const res: any = await sdk.admin.rbacRole.listAssignable({ limit: 100 } as any)
      return (res?.roles ?? []) as AssignableRole[]
    },
    async createRole(input: { name: string; description?: string; policy_ids?: string[] }): Promise<Role> {
      const res: any = await sdk.admin.rbacRole.create(compact(input) as any)
      return res.role
    },
    async updateRole(id: string, input: { name?: string; description?: string | null }): Promise<Role> {
      const res: any = await sdk.admin.rbacRole.update(id, input as any)
      return res.role
    },
    async deleteRole(id: string): Promise<void> {
      await sdk.admin.rbacRole.delete(id)
    },
    async rolePolicies(id: string): Promise<RolePolicy[]> {
      const res: any = await sdk.admin.rbacRole.listPolicies(id, { limit: 200 } as any)
      return res.policies ?? []
    },
    async addRolePolicies(id: string, policies: string[]): Promise<void> {
      await sdk.admin.rbacRole.addPolicies(id, { policies } as any)
    },
    async removeRolePolicy(id: string, policyId: string): Promise<void> {
      await sdk.admin.rbacRole.removePolicy(id, policyId)
    },
    async roleUsers(id: string): Promise<User[]> {
      const res: any = await sdk.admin.rbacRole.listUsers(id, { limit: 200 } as any)
      return res.users ?? []
    },
    async addRoleUsers(id: string, users: string[]): Promise<void> {
      await sdk.admin.rbacRole.addUsers(id, { users } as any)
    },
    async removeRoleUsers(id: string, users: string[]): Promise<void> {
      await sdk.admin.rbacRole.removeUsers(id, { users } as any)
    },
    async listPolicies(q: Q = {}): Promise<Page<Policy>> {
      return page<Policy>(await sdk.admin.rbacPolicy.list(compact({ limit: 200, ...q }) as any), "policies")
    },
    async createPolicy(input: { key: string; resource: string; operation: string; name?: string; description?: string }): Promise<Policy> {
      const res: any = await sdk.admin.rbacPolicy.create(compact(input) as any)
      return res.policy
    },
    async deletePolicy(id: string): Promise<void> {
      await sdk.admin.rbacPolicy.delete(id)
    },

    // ---- audit ----
    async listAuditEvents(f: AuditFilter): Promise<Page<AuditEvent>> {
      return page<AuditEvent>(await c.fetch("/admin/audit-events", { query: auditQuery(f) }), "audit_events")
    },

    // ---- MFA ----
    async listFactors(): Promise<MFAFactor[]> {
      const res: any = await sdk.auth.mfa.list()
      return res.mfa_factors ?? []
    },
    async startTOTP(label: string): Promise<{ factor: MFAFactor; secret: string; otpauthURL: string }> {
      const res: any = await sdk.auth.mfa.start({ provider: "totp", label, issuer: "Gatehouse" } as any)
      return { factor: res.mfa_factor, secret: res.secret, otpauthURL: res.otpauth_url }
    },
    async verifyFactor(id: string, code: string): Promise<MFAFactor> {
      const res: any = await sdk.auth.mfa.verify(id, { code } as any)
      return res.mfa_factor
    },
    async disableFactor(id: string): Promise<void> {
      await sdk.auth.mfa.disable(id)
    },
    async recoveryCodes(): Promise<string[]> {
      const res: any = await sdk.auth.mfa.generateRecoveryCodes()
      return res.recovery_codes ?? []
    },
  }
}

export type TenantApi = ReturnType<typeof tenantApi>

export interface AuditFilter {
  actor_id?: string
  action?: string
  target_id?: string
  /** datetime-local or ISO strings */
  since?: string
  until?: string
  offset?: number
  limit?: number
}

/** auditQuery maps the filter form to GET /admin/audit-events's query. */
export function auditQuery(f: AuditFilter): Q {
  const created: Q = {}
  if (f.since) created.$gte = new Date(f.since).toISOString()
  if (f.until) created.$lte = new Date(f.until).toISOString()
  return compact({
    actor_id: f.actor_id?.trim(),
    action: f.action?.trim(),
    target_id: f.target_id?.trim(),
    created_at: Object.keys(created).length ? created : undefined,
    offset: f.offset,
    limit: f.limit ?? 50,
  })
}

export function platformApi(sdk: Medusa) {
  const c = sdk.client
  return {
    async listTenants(q: Q = {}): Promise<Page<Tenant>> {
      return page<Tenant>(await c.fetch("/platform/tenants", { query: compact({ limit: 100, ...q }) }), "tenants")
    },
    async createTenant(input: { slug: string; name: string; domains?: string[] }): Promise<Tenant> {
      const res: any = await c.fetch("/platform/tenants", { method: "POST", body: compact(input) })
      return res.tenant
    },
    async updateTenant(id: string, input: { name?: string; settings?: Record<string, unknown> }): Promise<Tenant> {
      const res: any = await c.fetch(`/platform/tenants/${id}`, { method: "POST", body: compact(input) })
      return res.tenant
    },
    async setSuspended(id: string, suspended: boolean): Promise<Tenant> {
      const res: any = await c.fetch(`/platform/tenants/${id}/${suspended ? "suspend" : "resume"}`, { method: "POST", body: {} })
      return res.tenant
    },
    async addDomain(id: string, host: string): Promise<Tenant> {
      const res: any = await c.fetch(`/platform/tenants/${id}/domains`, { method: "POST", body: { host } })
      return res.tenant
    },
    async removeDomain(id: string, host: string): Promise<Tenant> {
      const res: any = await c.fetch(`/platform/tenants/${id}/domains`, { method: "DELETE", body: { host } })
      return res.tenant
    },
    async deleteTenant(id: string): Promise<void> {
      await c.fetch(`/platform/tenants/${id}`, { method: "DELETE" })
    },
  }
}

export type PlatformApi = ReturnType<typeof platformApi>

/** revokeDelay reads the "revoke in N seconds" field: 0 for now. */
export function revokeDelay(input: string): number {
  const s = input.trim()
  if (s === "") return 0
  const n = Number(s)
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) {
    throw new Error("Enter a whole number of seconds (0 revokes now).")
  }
  return n
}

/** parseSettings reads the tenant settings editor (a JSON object). */
export function parseSettings(text: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new Error("Settings must be valid JSON.")
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new Error("Settings must be a JSON object.")
  }
  return v as Record<string, unknown>
}
