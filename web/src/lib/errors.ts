// Turning API failures into sentences for people. The SDK throws FetchError
// with the HTTP status and the server's Medusa-shaped message.

export interface HTTPError {
  status?: number
  message?: string
}

export function statusOf(e: unknown): number | undefined {
  if (e && typeof e === "object" && "status" in e && typeof (e as HTTPError).status === "number") {
    return (e as HTTPError).status
  }
  return undefined
}

export function isForbidden(e: unknown): boolean {
  return statusOf(e) === 403
}

export function isUnauthorized(e: unknown): boolean {
  return statusOf(e) === 401
}

/** errorMessage says what went wrong, keeping the server's own words. */
export function errorMessage(e: unknown): string {
  const status = statusOf(e)
  const raw = e instanceof Error ? e.message : typeof e === "string" ? e : ""
  const msg = raw && raw !== "Unknown Error" ? raw : ""
  if (status === undefined) {
    if (e instanceof TypeError) {
      return "Cannot reach the Gatehouse server. Check your connection and try again."
    }
    return msg || "Something went wrong."
  }
  switch (status) {
    case 401:
      if (!msg || msg === "Unauthorized") {
        return "Your session has ended or the credentials are not valid. Sign in again."
      }
      return msg
    case 403:
      if (!msg || msg === "Forbidden") {
        return "You do not have permission to do this."
      }
      return `You do not have permission to do this. ${msg}`
    case 404:
      return msg || "Not found."
    case 429:
      return msg || "Too many attempts. Wait a little and try again."
    default:
      if (status >= 500) {
        return msg && msg !== "An unknown error occurred." ? `The server failed: ${msg}` : "The server failed. Try again in a moment."
      }
      return msg || `Request failed (HTTP ${status}).`
  }
}
