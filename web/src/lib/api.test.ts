import { FetchError } from "@medusajs/js-sdk"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { auditQuery, parseSettings, platformApi, revokeDelay, tenantApi } from "./api"
import { platformSDK, tenantSDK } from "./sdk"

interface Call {
  method: string
  url: URL
  headers: Headers
  body: unknown
  credentials?: string
}

// A fake server: each request is recorded and answered by the first route
// whose "METHOD /path" matches.
function fakeServer(routes: Record<string, (c: Call) => [number, unknown]>) {
  const calls: Call[] = []
  const fetch = vi.fn(async (input: URL | string, init: RequestInit = {}) => {
    const url = new URL(String(input))
    const c: Call = {
      method: init.method ?? "GET",
      url,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    }
    calls.push(c)
    const handler = routes[`${c.method} ${url.pathname}`]
    const [status, body] = handler ? handler(c) : [404, { type: "not_found", message: `no route ${c.method} ${url.pathname}` }]
    return new Response(JSON.stringify(body), { status, statusText: String(status), headers: { "content-type": "application/json" } })
  })
  vi.stubGlobal("fetch", fetch)
  return calls
}

describe("tenant API", () => {
  const base = "http://localhost:9000/t/demo"
  beforeEach(() => {
    vi.unstubAllGlobals()
  })
  afterEach(() => vi.unstubAllGlobals())

  it("logs in and turns the token into a cookie session, never storing it", async () => {
    const calls = fakeServer({
      "POST /t/demo/auth/user/emailpass": () => [200, { token: "jwt-1" }],
      "POST /t/demo/auth/session": () => [200, { user: {} }],
    })
    const api = tenantApi(tenantSDK(base))
    await expect(api.login("a@b.test", "correct-horse-9")).resolves.toEqual({ kind: "ok" })
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual(["POST /t/demo/auth/user/emailpass", "POST /t/demo/auth/session"])
    expect(calls[0].body).toEqual({ email: "a@b.test", password: "correct-horse-9" })
    expect(calls[1].headers.get("authorization")).toBe("Bearer jwt-1")
    expect(calls[0].credentials).toBe("same-origin")
  })

  it("returns the MFA challenge, then verifies it and starts the full session", async () => {
    const calls = fakeServer({
      "POST /t/demo/auth/user/emailpass": () => [200, { token: "partial", mfa_required: true, mfa_challenge: { id: "authmfach_1", methods: ["totp", "recovery_code"] } }],
      "POST /t/demo/auth/session": () => [200, { user: {} }],
      "POST /t/demo/auth/mfa/challenges/authmfach_1/verify": () => [200, { token: "full" }],
    })
    const api = tenantApi(tenantSDK(base))
    const res = await api.login("a@b.test", "correct-horse-9")
    expect(res).toMatchObject({ kind: "mfa", challenge: { id: "authmfach_1" } })
    await api.verifyChallenge("authmfach_1", "totp", "123456")
    const verify = calls.find((c) => c.url.pathname.endsWith("/verify"))!
    expect(verify.body).toEqual({ method: "totp", code: "123456" })
    expect(calls.at(-1)!.headers.get("authorization")).toBe("Bearer full")
  })

  it("surfaces the API's error", async () => {
    fakeServer({ "POST /t/demo/auth/user/emailpass": () => [401, { type: "unauthorized", message: "Invalid email or password" }] })
    const err = await tenantApi(tenantSDK(base)).login("a@b.test", "nope").catch((e) => e)
    expect(err).toBeInstanceOf(FetchError)
    expect(err.status).toBe(401)
    expect(err.message).toBe("Invalid email or password")
  })

  it("accepts an invite as Medusa does: register, then accept with the registration token", async () => {
    const calls = fakeServer({
      "POST /t/demo/auth/user/emailpass/register": () => [200, { token: "reg-token" }],
      "POST /t/demo/admin/invites/accept": () => [200, { user: { id: "user_1", email: "i@b.test" } }],
    })
    const user = await tenantApi(tenantSDK(base)).acceptInvite("inv.tok", { email: "i@b.test", password: "correct-horse-9", first_name: "Ines" })
    expect(user.id).toBe("user_1")
    const accept = calls[1]
    expect(accept.url.searchParams.get("token")).toBe("inv.tok")
    expect(accept.headers.get("authorization")).toBe("Bearer reg-token")
    expect(accept.body).toEqual({ email: "i@b.test", first_name: "Ines" })
  })

  it("revokes now or later, changes the password, signs out everywhere", async () => {
    const calls = fakeServer({
      "POST /t/demo/admin/api-keys/apk_1/revoke": () => [200, { api_key: { id: "apk_1" } }],
      "POST /t/demo/admin/users/me/password": () => [200, { user: { id: "user_1" } }],
      "POST /t/demo/auth/logout-all": () => [200, { success: true }],
    })
    const api = tenantApi(tenantSDK(base))
    await api.revokeApiKey("apk_1")
    await api.revokeApiKey("apk_1", 3600)
    await api.changePassword("old-horse-9", "new-horse-10")
    await api.logoutAll()
    expect(calls.map((c) => c.body)).toEqual([{}, { revoke_in: 3600 }, { current_password: "old-horse-9", new_password: "new-horse-10" }, undefined])
  })

  it("links and unlinks sales channels in one batch, creates keys with channels", async () => {
    const calls = fakeServer({
      "POST /t/demo/admin/api-keys/apk_1/sales-channels": () => [200, { api_key: { id: "apk_1" } }],
      "POST /t/demo/admin/api-keys": () => [200, { api_key: { id: "apk_2", token: "sk_x" } }],
    })
    const api = tenantApi(tenantSDK(base))
    await api.linkKeyChannels("apk_1", ["sc_1"], [])
    await api.createApiKey("partner", "secret", ["sc_1"])
    await api.createApiKey("backend", "secret")
    expect(calls.map((c) => c.body)).toEqual([
      { add: ["sc_1"] },
      { title: "partner", type: "secret", sales_channel_ids: ["sc_1"] },
      { title: "backend", type: "secret" },
    ])
  })

  it("offers the roles the admin may assign, through the SDK's listAssignable", async () => {
    const calls = fakeServer({
      "GET /t/demo/admin/rbac/roles/assignable": () => [200, { roles: [{ id: "role_viewer", name: "Viewer", description: null }], count: 1 }],
    })
    const api = tenantApi(tenantSDK(base))
    await expect(api.listAssignableRoles()).resolves.toEqual([{ id: "role_viewer", name: "Viewer", description: null }])
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual(["GET /t/demo/admin/rbac/roles/assignable"])
    expect(calls[0].url.searchParams.get("limit")).toBe("100")
  })

  it("filters the audit log with Medusa's operators", async () => {
    const calls = fakeServer({ "GET /t/demo/admin/audit-events": () => [200, { audit_events: [{ id: "aud_1" }], count: 1, offset: 0, limit: 50 }] })
    const page = await tenantApi(tenantSDK(base)).listAuditEvents({ action: " POST /admin/invites ", actor_id: "", since: "2026-01-02T03:04:05Z" })
    expect(page.items).toHaveLength(1)
    const q = calls[0].url.searchParams
    expect(q.get("action")).toBe("POST /admin/invites")
    expect(q.has("actor_id")).toBe(false)
    expect(q.get("created_at[$gte]")).toBe("2026-01-02T03:04:05.000Z")
    expect(q.get("limit")).toBe("50")
  })
})

describe("platform API", () => {
  afterEach(() => vi.unstubAllGlobals())
  it("sends the platform key as a Bearer token and no cookie", async () => {
    const calls = fakeServer({
      "GET /platform/tenants": () => [200, { tenants: [], count: 0, offset: 0, limit: 100 }],
      "POST /platform/tenants/ten_1/suspend": () => [200, { tenant: { id: "ten_1", status: "suspended" } }],
      "DELETE /platform/tenants/ten_1/domains": () => [200, { tenant: { id: "ten_1" } }],
    })
    const api = platformApi(platformSDK("http://localhost:9000", "key-0123456789abcdefghijkl"))
    await api.listTenants({ q: "" })
    await api.setSuspended("ten_1", true)
    await api.removeDomain("ten_1", "auth.shop.test")
    for (const c of calls) {
      expect(c.headers.get("authorization")).toBe("Bearer key-0123456789abcdefghijkl")
      expect(c.credentials).toBe("omit")
    }
    expect(calls[0].url.searchParams.has("q")).toBe(false)
    expect(calls[1].body).toEqual({})
    expect(calls[2].body).toEqual({ host: "auth.shop.test" })
  })
})

describe("form parsing", () => {
  it("reads the revoke delay", () => {
    expect(revokeDelay("")).toBe(0)
    expect(revokeDelay(" 60 ")).toBe(60)
    expect(() => revokeDelay("-1")).toThrow(/whole number/)
    expect(() => revokeDelay("1.5")).toThrow(/whole number/)
    expect(() => revokeDelay("soon")).toThrow(/whole number/)
  })
  it("reads tenant settings as a JSON object", () => {
    expect(parseSettings('{"partner_keys": true}')).toEqual({ partner_keys: true })
    expect(() => parseSettings("[1]")).toThrow(/object/)
    expect(() => parseSettings("{")).toThrow(/valid JSON/)
  })
  it("builds the audit query without empty filters", () => {
    expect(auditQuery({})).toEqual({ limit: 50 })
  })
})
