import { describe, expect, it } from "vitest"
import { parseLocation } from "./base"

describe("parseLocation", () => {
  const cases: [string, string, ReturnType<typeof parseLocation>][] = [
    ["/app/", "http://demo.localhost:9000", { mode: "tenant", apiBase: "http://demo.localhost:9000", appBase: "/app/", page: "" }],
    ["/app", "http://demo.localhost:9000", { mode: "tenant", apiBase: "http://demo.localhost:9000", appBase: "/app/", page: "" }],
    ["/app/users", "http://demo.localhost:9000", { mode: "tenant", apiBase: "http://demo.localhost:9000", appBase: "/app/", page: "users" }],
    ["/t/demo/app/", "http://localhost:9000", { mode: "tenant", apiBase: "http://localhost:9000/t/demo", appBase: "/t/demo/app/", slug: "demo", page: "" }],
    ["/t/acme/app/api-keys", "https://auth.example", { mode: "tenant", apiBase: "https://auth.example/t/acme", appBase: "/t/acme/app/", slug: "acme", page: "api-keys" }],
    ["/t/acme/app/invite", "http://localhost:9000/", { mode: "tenant", apiBase: "http://localhost:9000/t/acme", appBase: "/t/acme/app/", slug: "acme", page: "invite" }],
    ["/platform/app/", "http://localhost:9000", { mode: "platform", apiBase: "http://localhost:9000", appBase: "/platform/app/", page: "" }],
    ["/platform/app/tenants", "http://localhost:9000", { mode: "platform", apiBase: "http://localhost:9000", appBase: "/platform/app/", page: "tenants" }],
    ["/", "http://localhost:5173", { mode: "tenant", apiBase: "http://localhost:5173", appBase: "/", page: "" }],
  ]
  for (const [path, origin, want] of cases) {
    it(`${origin}${path}`, () => {
      expect(parseLocation(path, origin)).toEqual(want)
    })
  }
  it("does not take /application or /t/x/apps for the console", () => {
    expect(parseLocation("/application", "http://h").appBase).toBe("/")
    expect(parseLocation("/t/x/apps", "http://h").mode).toBe("tenant")
    expect(parseLocation("/t/x/apps", "http://h").slug).toBeUndefined()
  })
})
