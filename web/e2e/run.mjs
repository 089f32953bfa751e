// End-to-end tests of the admin console: a real Gatehouse (started by
// scripts/web.sh e2e) driven through headless Chromium with playwright-core.
// Prints one line per flow and "N passed, N failed" at the end.
import { mkdirSync } from "node:fs"
import Medusa from "@medusajs/js-sdk"
import { chromium } from "playwright-core"
import { totp } from "./totp.mjs"

const port = process.env.GH_PORT
const password = process.env.GH_DEMO_PASSWORD
const platformKey = process.env.GH_PLATFORM_KEY
const shots = process.env.GH_SCREENSHOTS
if (!port || !password || !platformKey) {
  console.error("e2e: GH_PORT, GH_DEMO_PASSWORD and GH_PLATFORM_KEY are set by scripts/web.sh e2e")
  process.exit(2)
}
const tenantApp = `http://demo.localhost:${port}/app/`
const pathApp = `http://127.0.0.1:${port}/t/demo/app/`
const platformApp = `http://localhost:${port}/platform/app/`
const api = `http://127.0.0.1:${port}/t/demo`
const admin = { email: "admin@demo.localhost", password }
const invitee = { email: "ines.invitee@example.com", password: "correct-horse-9-ines" }
if (shots) mkdirSync(shots, { recursive: true })

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
})
const newContext = () => browser.newContext({ viewport: { width: 1280, height: 860 } })
const results = { passed: 0, failed: 0 }
const consoleErrors = []

async function step(name, fn) {
  const t0 = Date.now()
  try {
    await fn()
    results.passed++
    console.log(`  ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`)
  } catch (e) {
    results.failed++
    console.log(`  FAIL ${name}: ${e?.message?.split("\n").slice(0, 6).join("\n       ") ?? e}`)
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg)
}

async function shot(page, name) {
  if (!shots) return
  await page.waitForTimeout(250) // let toasts and transitions settle
  await page.screenshot({ path: `${shots}/${name}.png` })
}

function watch(page) {
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[13]/.test(m.text())) consoleErrors.push(m.text())
  })
  page.on("pageerror", (e) => consoleErrors.push(String(e)))
  page.setDefaultTimeout(10_000)
  return page
}

async function signIn(page, base, who) {
  await page.goto(base)
  await page.getByLabel("Email").fill(who.email)
  await page.getByLabel("Password").fill(who.password)
  await page.getByRole("button", { name: "Sign in" }).click()
}

async function confirmPrompt(page, text) {
  await page.getByRole("alertdialog").getByRole("button", { name: text }).click()
}

async function basic(path, token) {
  const res = await fetch(`${api}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${token}:`).toString("base64")}` } })
  return res.status
}

const adminCtx = await newContext()
const page = watch(await adminCtx.newPage())
const inviteeCtx = await newContext()
const inviteePage = watch(await inviteeCtx.newPage())
let inviteLink = ""

console.log(`e2e: console at ${tenantApp}`)

await step("sign in: a wrong password shows the API's error, the right one opens the console", async () => {
  await page.goto(tenantApp)
  await page.getByRole("heading", { name: "Sign in" }).waitFor()
  await shot(page, "sign-in")
  await signIn(page, tenantApp, { email: admin.email, password: "not-the-password-1" })
  const err = await page.getByTestId("form-error").textContent()
  expect(/invalid email or password/i.test(err ?? ""), `error shown: ${err}`)
  await signIn(page, tenantApp, admin)
  await page.getByTestId("signed-in-as").filter({ hasText: admin.email }).waitFor()
  await page.getByRole("heading", { name: "Users" }).waitFor()
  await page.getByTestId("user-row").first().waitFor()
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))
  expect(!/eyJ|sk_|pk_/.test(stored), `a token was stored in web storage: ${stored}`)
})

await step("invite a user; the invitee accepts in a second browser", async () => {
  await page.getByRole("button", { name: "Invite user" }).click()
  const drawer = page.getByRole("dialog")
  await drawer.getByLabel("Email").fill(invitee.email)
  await drawer.getByRole("button", { name: "Send invite" }).click()
  inviteLink = (await page.getByTestId("invite-link").textContent()) ?? ""
  expect(inviteLink.includes("/app/invite?token="), `invite link: ${inviteLink}`)
  await page.getByTestId("invite-row").filter({ hasText: invitee.email }).waitFor()
  await shot(page, "users")

  // The second browser opens the link under /t/demo/app/ (the path form).
  const token = new URL(inviteLink).searchParams.get("token")
  await inviteePage.goto(`${pathApp}invite?token=${encodeURIComponent(token)}`)
  await inviteePage.getByRole("heading", { name: "Accept your invite" }).waitFor()
  await inviteePage.getByLabel("Email").fill(invitee.email)
  await inviteePage.getByLabel("First name").fill("Ines")
  await inviteePage.getByLabel("Password", { exact: true }).fill(invitee.password)
  await inviteePage.getByLabel("Repeat password").fill(invitee.password)
  await inviteePage.getByRole("button", { name: "Create account" }).click()
  await inviteePage.getByTestId("signed-in-as").filter({ hasText: invitee.email }).waitFor()
  expect(!new URL(inviteePage.url()).search.includes("token"), "the invite token stays in the address bar")
  // Invited without roles: the users list is refused, and said so.
  await inviteePage.getByTestId("forbidden").first().waitFor()

  await page.reload()
  await page.getByTestId("user-row").filter({ hasText: invitee.email }).waitFor()
})

let secret = ""
await step("create a secret key (shown once), revoke it, the API refuses it, delete it", async () => {
  await page.getByRole("link", { name: "API keys" }).click()
  await page.getByRole("heading", { name: "API keys" }).waitFor()
  await page.getByRole("button", { name: "Create key" }).click()
  const drawer = page.getByRole("dialog")
  await drawer.getByLabel("Title").fill("e2e backend")
  await drawer.getByRole("button", { name: "Create key" }).click()
  secret = (await page.getByTestId("secret-token").textContent())?.trim() ?? ""
  expect(secret.startsWith("sk_"), `one-time secret: ${secret.slice(0, 5)}…`)
  await page.getByRole("button", { name: "Copy secret key" }).waitFor()
  await shot(page, "api-keys")
  expect((await basic("/admin/users", secret)) === 200, "the new key is accepted")
  await page.getByRole("button", { name: "I have copied it" }).click()
  expect((await page.getByTestId("one-time-secret").count()) === 0, "the secret is still on screen")

  await page.getByRole("button", { name: "Revoke e2e backend" }).click()
  await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click()
  await page.getByTestId("key-row").filter({ hasText: "e2e backend" }).filter({ hasText: "Revoked" }).waitFor()
  const status = await basic("/admin/users", secret)
  expect(status === 401, `GET /admin/users with the revoked key = ${status}, want 401`)

  await page.getByRole("button", { name: "Delete e2e backend" }).click()
  await confirmPrompt(page, "Delete key")
  await page.getByTestId("key-row").filter({ hasText: "e2e backend" }).waitFor({ state: "detached" })
})

await step("a role without api_key:read: its holder sees the keys screen refuse with 403", async () => {
  await page.getByRole("link", { name: "Roles & policies" }).click()
  await page.getByRole("button", { name: "Create role" }).click()
  const drawer = page.getByRole("dialog")
  await drawer.getByLabel("Name").fill("Support")
  await drawer.getByLabel("Description").fill("Reads users, nothing else")
  await drawer.getByLabel("user:read", { exact: true }).check()
  await drawer.getByRole("button", { name: "Create role" }).click()
  await page.getByTestId("role-row").filter({ hasText: "Support" }).waitFor()
  await shot(page, "roles")

  await page.getByRole("link", { name: "Users" }).click()
  await page.getByRole("button", { name: `Roles of ${invitee.email}` }).click()
  const roles = page.getByRole("dialog")
  await roles.getByLabel("Support", { exact: true }).check()
  await roles.getByRole("button", { name: "Assign selected roles" }).click()
  await roles.getByRole("button", { name: "Remove role Support" }).waitFor()
  await page.keyboard.press("Escape")

  await inviteePage.reload()
  await inviteePage.getByTestId("user-row").first().waitFor() // user:read now granted, at once
  await inviteePage.getByRole("link", { name: "API keys" }).click()
  const note = inviteePage.getByTestId("forbidden")
  await note.waitFor()
  const text = (await note.textContent()) ?? ""
  expect(/permission/i.test(text) && /api_key:read/.test(text), `403 message: ${text}`)
})

await step("audit log lists and filters the changes", async () => {
  await page.getByRole("link", { name: "Audit log" }).click()
  await page.getByTestId("audit-row").first().waitFor()
  await page.getByLabel("Action").fill("invite.create")
  await page.getByRole("button", { name: "Apply filters" }).click()
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="audit-row"]')]
    return rows.length > 0 && rows.every((r) => r.textContent.includes("invite.create"))
  })
  await page.getByRole("button", { name: "Clear" }).click()
  await page.getByTestId("audit-row").nth(3).waitFor()
  await shot(page, "audit-log")
})

await step("the js-sdk's list calls: listAssignable, order, id and filter arrays, date maps as qs writes them; unknown parameters refused", async () => {
  // The same SDK the console uses, from Node with a JWT, before the admin enrols TOTP.
  const sdk = new Medusa({ baseUrl: api, auth: { type: "jwt", jwtTokenStorageMethod: "memory" } })
  await sdk.auth.login("user", "emailpass", admin)
  const roles = await sdk.admin.rbacRole.list({ limit: 100 })
  const assignable = await sdk.admin.rbacRole.listAssignable({ limit: 100 })
  expect(assignable.count === roles.count && assignable.roles.every((r) => Object.keys(r).sort().join() === "description,id,name"),
    `super admin may assign ${assignable.count} of ${roles.count} roles: ${JSON.stringify(assignable.roles)}`)
  const policies = await sdk.admin.rbacPolicy.listAssignable({ limit: 2, offset: 1 })
  expect(policies.policies.length === 2 && policies.count > 2, `assignable policies page: ${JSON.stringify(policies)}`)
  for (const n of ["sdk-b", "sdk-a", "sdk-c"]) await sdk.admin.salesChannel.create({ name: n })
  const desc = (await sdk.admin.salesChannel.list({ q: "sdk-", order: "-name" })).sales_channels.map((c) => c.name)
  expect(desc.join() === "sdk-c,sdk-b,sdk-a", `order=-name: ${desc}`)
  const two = (await sdk.admin.salesChannel.list({ q: "sdk-", order: "name" })).sales_channels.slice(0, 2)
  const byId = await sdk.admin.salesChannel.list({ id: two.map((c) => c.id) }) // id[0]=…&id[1]=…
  expect(byId.count === 2 && byId.sales_channels.every((c) => c.name === "sdk-a" || c.name === "sdk-b"), `id array: ${JSON.stringify(byId.sales_channels)}`)
  const later = new Date(Date.now() + 3600_000).toISOString()
  const before = await sdk.admin.rbacRole.list({ created_at: { $lt: later } })
  const after = await sdk.admin.rbacRole.list({ created_at: { $gte: later } })
  expect(before.count === roles.count && after.count === 0, `created_at maps: ${before.count} before, ${after.count} after, of ${roles.count}`)
  let status = 0
  await sdk.admin.user.list({ order: "password" }).catch((e) => { status = e.status })
  expect(status === 400, `order=password: ${status}, want 400`)
  // Filters Medusa takes as a list match any value (key[0]=…&key[1]=…); a
  // parameter the route does not know is Medusa's 400, not ignored.
  const keys = await sdk.admin.rbacPolicy.list({ key: ["user:read", "user:update"] })
  expect(keys.count === 2 && keys.policies.every((p) => p.key === "user:read" || p.key === "user:update"), `key array: ${JSON.stringify(keys.policies)}`)
  const names = await sdk.admin.salesChannel.list({ name: ["sdk-a", "sdk-c"], order: "name" })
  expect(names.sales_channels.map((c) => c.name).join() === "sdk-a,sdk-c", `name array: ${JSON.stringify(names.sales_channels)}`)
  let unknown = {}
  await sdk.admin.user.list({ emial: admin.email }).catch((e) => { unknown = { status: e.status, message: e.message } })
  expect(unknown.status === 400 && unknown.message === "Invalid request: Unrecognized fields: 'emial'", `unknown parameter: ${JSON.stringify(unknown)}`)
})

await step("the js-sdk's store customer: register, then its own addresses (create, list, retrieve, update, delete)", async () => {
  const admin_ = new Medusa({ baseUrl: api, auth: { type: "jwt", jwtTokenStorageMethod: "memory" } })
  await admin_.auth.login("user", "emailpass", admin)
  const { api_key } = await admin_.admin.apiKey.create({ title: "e2e storefront", type: "publishable" })
  const sdk = new Medusa({ baseUrl: api, publishableKey: api_key.token, auth: { type: "jwt", jwtTokenStorageMethod: "memory" } })
  const shopper = { email: "shopper@demo.localhost", password: "correct-horse-9" }
  await sdk.auth.register("customer", "emailpass", shopper)
  await sdk.store.customer.create({ email: shopper.email })
  await sdk.auth.login("customer", "emailpass", shopper)
  const created = await sdk.store.customer.createAddress({ address_name: "Home", address_1: "1 Main St", city: "Oslo", country_code: "no", is_default_shipping: true })
  const home = created.customer.addresses[0]
  expect(home?.city === "Oslo" && home.is_default_shipping === true, `createAddress: ${JSON.stringify(created.customer)}`)
  await sdk.store.customer.createAddress({ address_name: "Work", city: "Bergen", is_default_shipping: true })
  const listed = await sdk.store.customer.listAddress({ city: ["Oslo", "Bergen"], order: "city" })
  expect(listed.count === 2 && listed.addresses.map((a) => a.city).join() === "Bergen,Oslo", `listAddress: ${JSON.stringify(listed)}`)
  const { address } = await sdk.store.customer.retrieveAddress(home.id)
  expect(address.id === home.id && address.is_default_shipping === false, `retrieveAddress after Work took default shipping: ${JSON.stringify(address)}`)
  const updated = await sdk.store.customer.updateAddress(home.id, { city: "Trondheim", phone: null })
  expect(updated.customer.addresses.some((a) => a.id === home.id && a.city === "Trondheim"), `updateAddress: ${JSON.stringify(updated.customer.addresses)}`)
  const deleted = await sdk.store.customer.deleteAddress(home.id)
  expect(deleted.deleted === true && deleted.parent.addresses.length === 1, `deleteAddress: ${JSON.stringify(deleted)}`)
  let status = 0
  await sdk.store.customer.retrieveAddress(home.id).catch((e) => { status = e.status })
  expect(status === 404, `retrieveAddress after delete: ${status}, want 404`)
})

await step("enrol TOTP, sign out, sign in again with a code", async () => {
  await page.getByRole("link", { name: "My account" }).click()
  await page.getByRole("button", { name: "Set up an authenticator app" }).click()
  const seed = (await page.getByTestId("totp-secret").textContent())?.trim() ?? ""
  expect(seed.length >= 16, `TOTP secret: ${seed}`)
  await page.getByRole("img", { name: /QR code/ }).waitFor()
  const step0 = Math.floor(Date.now() / 30000)
  await page.getByLabel("Code from the app").fill(totp(seed, step0))
  await page.getByRole("button", { name: "Verify and turn on" }).click()
  await page.getByTestId("recovery-codes").waitFor()
  await page.getByTestId("mfa-enabled").waitFor()
  await shot(page, "account-mfa")
  await page.getByRole("button", { name: "I have saved them" }).click()

  await page.getByRole("button", { name: "Sign out", exact: true }).click()
  await page.getByRole("heading", { name: "Sign in" }).waitFor()
  await signIn(page, tenantApp, admin)
  await page.getByRole("heading", { name: "Two-step verification" }).waitFor()
  // Each code works once: use the next time step (the server allows ±1).
  await page.getByLabel("Authentication code").fill(totp(seed, step0 + 1))
  await page.getByRole("button", { name: "Verify" }).click()
  await page.getByTestId("signed-in-as").filter({ hasText: admin.email }).waitFor()
})

await step("platform console: key in memory, tenants listed, create, suspend and resume", async () => {
  const ctx = await newContext()
  const p = watch(await ctx.newPage())
  await p.goto(platformApp)
  await p.getByLabel("Platform key").fill("wrong-key-0123456789abcdefgh")
  await p.getByRole("button", { name: "Sign in" }).click()
  await p.getByTestId("form-error").filter({ hasText: "not valid" }).waitFor()
  await p.getByLabel("Platform key").fill(platformKey)
  await p.getByRole("button", { name: "Sign in" }).click()
  await p.getByTestId("tenant-row").filter({ hasText: "demo" }).waitFor()
  await p.getByRole("button", { name: "Create tenant" }).click()
  const drawer = p.getByRole("dialog")
  await drawer.getByLabel("Slug").fill("acme")
  await drawer.getByLabel("Name").fill("Acme Inc")
  await drawer.getByRole("button", { name: "Create tenant" }).click()
  const acme = p.getByTestId("tenant-row").filter({ hasText: "acme" })
  await acme.waitFor()
  await p.getByRole("button", { name: "Suspend acme" }).click()
  await confirmPrompt(p, "Suspend tenant")
  await acme.filter({ hasText: "suspended" }).waitFor()
  const res = await fetch(`http://127.0.0.1:${port}/t/acme/auth/user/providers`)
  expect(res.status === 403, `a suspended tenant answers ${res.status}, want 403`)
  await p.getByRole("button", { name: "Resume acme" }).click()
  await acme.filter({ hasText: "active" }).waitFor()
  await shot(p, "platform-tenants")
  const stored = await p.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie)
  expect(!stored.includes("platform-key"), "the platform key was stored")
  await ctx.close()
})

await step("sign out: the session cookie no longer works", async () => {
  await page.getByRole("button", { name: "Sign out", exact: true }).click()
  await page.getByRole("heading", { name: "Sign in" }).waitFor()
  const status = await page.evaluate(async () => (await fetch("/admin/users/me", { credentials: "same-origin" })).status)
  expect(status === 401, `GET /admin/users/me after sign out = ${status}, want 401`)
})

await step("change password (the invitee), then sign in with the new one", async () => {
  const next = "correct-horse-9-ines-2"
  await inviteePage.getByRole("link", { name: "My account" }).click()
  await inviteePage.getByLabel("Current password").fill(invitee.password)
  await inviteePage.getByLabel("New password", { exact: true }).fill(next)
  await inviteePage.getByLabel("Repeat new password").fill(next)
  await inviteePage.getByRole("button", { name: "Change password" }).click()
  await inviteePage.getByText("Password changed").waitFor()
  const ctx = await newContext()
  const p = watch(await ctx.newPage())
  await signIn(p, pathApp, { email: invitee.email, password: next })
  await p.getByTestId("signed-in-as").filter({ hasText: invitee.email }).waitFor()
  await ctx.close()
})

await step("no script errors in the pages", async () => {
  expect(consoleErrors.length === 0, consoleErrors.join("\n"))
})

await browser.close()
console.log(`${results.passed} passed, ${results.failed} failed`)
process.exit(results.failed ? 1 : 0)
