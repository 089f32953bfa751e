import Medusa from "@medusajs/js-sdk"

/**
 * tenantSDK talks to one tenant's API with the connect.sid cookie session.
 * Tokens the SDK handles on the way (the login JWT before it becomes a
 * session, a registration token) stay in memory: nothing goes to
 * localStorage or sessionStorage.
 */
export function tenantSDK(apiBase: string): Medusa {
  return new Medusa({
    baseUrl: apiBase,
    auth: { type: "session", jwtTokenStorageMethod: "memory", fetchCredentials: "same-origin" },
  })
}

/**
 * platformSDK talks to /platform with the operators' key, sent as a Bearer
 * token (the platformKey middleware) and kept only in this object.
 */
export function platformSDK(origin: string, platformKey: string): Medusa {
  return new Medusa({
    baseUrl: origin,
    auth: { type: "jwt", jwtTokenStorageMethod: "memory" },
    globalHeaders: { authorization: `Bearer ${platformKey}` },
  })
}
