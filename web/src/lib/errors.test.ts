import { FetchError } from "@medusajs/js-sdk"
import { describe, expect, it } from "vitest"
import { errorMessage, isForbidden, isUnauthorized } from "./errors"

describe("errorMessage", () => {
  const cases: [string, unknown, RegExp][] = [
    ["bad credentials keep the server's words", new FetchError("Invalid email or password", "Unauthorized", 401), /^Invalid email or password$/],
    ["the middleware's bare 401 means sign in again", new FetchError("Unauthorized", "Unauthorized", 401), /Sign in again/],
    ["a 403 with required policies names them", new FetchError("Insufficient permissions. Required policies: api_key:read", "Forbidden", 403), /do not have permission.*api_key:read/],
    ["a bare 403", new FetchError("Forbidden", "Forbidden", 403), /^You do not have permission to do this\.$/],
    ["a CSRF refusal", new FetchError("Cross-site request refused", "Forbidden", 403), /Cross-site request refused/],
    ["throttling", new FetchError("Too many attempts", "Too Many Requests", 429), /Too many attempts/],
    ["a 500 hides nothing useful", new FetchError("An unknown error occurred.", "Internal Server Error", 500), /server failed\. Try again/],
    ["validation", new FetchError("Field 'email' is required", "Bad Request", 400), /Field 'email' is required/],
    ["network", new TypeError("Failed to fetch"), /Cannot reach the Gatehouse server/],
    ["local validation", new Error("The two passwords differ."), /The two passwords differ/],
  ]
  for (const [name, err, want] of cases) {
    it(name, () => expect(errorMessage(err)).toMatch(want))
  }
  it("classifies statuses", () => {
    expect(isForbidden(new FetchError("x", "Forbidden", 403))).toBe(true)
    expect(isUnauthorized(new FetchError("x", "Unauthorized", 401))).toBe(true)
    expect(isForbidden(new Error("x"))).toBe(false)
  })
})
