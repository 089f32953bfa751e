import { useEffect, useState } from "react"

// A small history-API router: pages are one path segment after the
// console's base (/app/users), details go in the query string.

export function currentPage(appBase: string): string {
  const p = window.location.pathname
  const rest = p.startsWith(appBase) ? p.slice(appBase.length) : ""
  return rest.split("/")[0] ?? ""
}

export function navigate(appBase: string, page: string, query = ""): void {
  const url = appBase + page + (query ? `?${query}` : "")
  window.history.pushState(null, "", url)
  window.dispatchEvent(new PopStateEvent("popstate"))
}

export function usePage(appBase: string): string {
  const [page, setPage] = useState(() => currentPage(appBase))
  useEffect(() => {
    const on = () => setPage(currentPage(appBase))
    window.addEventListener("popstate", on)
    return () => window.removeEventListener("popstate", on)
  }, [appBase])
  return page
}
