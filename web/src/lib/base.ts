// Where the console runs decides which API it talks to: /app/ of a tenant
// host (demo.localhost:9000/app/), /t/{slug}/app/ (any host), or
// /platform/app/ (the operators' console). Client-side routes are one
// segment deep (/app/users), so Vite's relative ./assets/ always resolves.

export type Mode = "tenant" | "platform"

export interface AppLocation {
  mode: Mode
  /** The SDK's baseUrl: the origin, plus /t/{slug} when the path names the tenant. */
  apiBase: string
  /** The console's own path prefix, ending in "/". */
  appBase: string
  /** The tenant slug from the path, when there is one. */
  slug?: string
  /** The client-side page: the first segment after appBase ("" for the start page). */
  page: string
}

export function parseLocation(pathname: string, origin: string): AppLocation {
  const o = origin.replace(/\/+$/, "")
  let m = /^\/platform\/app(?:\/(.*))?$/.exec(pathname)
  if (m) {
    return { mode: "platform", apiBase: o, appBase: "/platform/app/", page: firstSegment(m[1]) }
  }
  m = /^\/t\/([^/]+)\/app(?:\/(.*))?$/.exec(pathname)
  if (m) {
    const slug = decodeURIComponent(m[1])
    return {
      mode: "tenant",
      apiBase: `${o}/t/${encodeURIComponent(slug)}`,
      appBase: `/t/${m[1]}/app/`,
      slug,
      page: firstSegment(m[2]),
    }
  }
  m = /^\/app(?:\/(.*))?$/.exec(pathname)
  if (m) {
    return { mode: "tenant", apiBase: o, appBase: "/app/", page: firstSegment(m[1]) }
  }
  // Vite's dev server serves the console at /.
  return { mode: "tenant", apiBase: o, appBase: "/", page: firstSegment(pathname.slice(1)) }
}

function firstSegment(rest: string | undefined): string {
  return (rest ?? "").split("/")[0] ?? ""
}
