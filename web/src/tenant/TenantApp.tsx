import { Button, Heading, Text, toast } from "@medusajs/ui"
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react"
import { tenantApi, type TenantApi } from "../lib/api"
import type { AppLocation } from "../lib/base"
import { errorMessage, isUnauthorized, statusOf } from "../lib/errors"
import { navigate, usePage } from "../lib/router"
import { tenantSDK } from "../lib/sdk"
import type { User } from "../lib/types"
import { AcceptInvite } from "./AcceptInvite"
import { Account } from "./Account"
import { ApiKeys } from "./ApiKeys"
import { Audit } from "./Audit"
import { SessionContext, type Session } from "./context"
import { Roles } from "./Roles"
import { SalesChannels } from "./SalesChannels"
import { SignIn } from "./SignIn"
import { Users } from "./Users"

const pages: { page: string; label: string; render: () => ReactNode }[] = [
  { page: "users", label: "Users", render: () => <Users /> },
  { page: "api-keys", label: "API keys", render: () => <ApiKeys /> },
  { page: "sales-channels", label: "Sales channels", render: () => <SalesChannels /> },
  { page: "roles", label: "Roles & policies", render: () => <Roles /> },
  { page: "audit", label: "Audit log", render: () => <Audit /> },
  { page: "account", label: "My account", render: () => <Account /> },
]

type State =
  | { kind: "checking" }
  | { kind: "signed-out"; notice?: string }
  | { kind: "signed-in"; user: User; permissions: string[] }
  | { kind: "failed"; error: unknown }

export function TenantApp({ loc }: { loc: AppLocation }) {
  const api = useMemo<TenantApi>(() => tenantApi(tenantSDK(loc.apiBase)), [loc.apiBase])
  const page = usePage(loc.appBase)
  const [state, setState] = useState<State>({ kind: "checking" })

  const refresh = useCallback(async () => {
    try {
      const user = await api.me()
      const permissions = await api.permissions().catch(() => [] as string[])
      setState({ kind: "signed-in", user, permissions })
    } catch (e) {
      if (isUnauthorized(e)) setState({ kind: "signed-out" })
      else if (statusOf(e) === 404 && /tenant/i.test(errorMessage(e))) setState({ kind: "failed", error: e })
      else setState({ kind: "failed", error: e })
    }
  }, [api])

  useEffect(() => {
    if (page !== "invite") void refresh()
  }, [refresh, page])

  if (page === "invite") {
    return <AcceptInvite api={api} appBase={loc.appBase} />
  }
  if (state.kind === "checking") {
    return <Centered><Text role="status">Loading the console…</Text></Centered>
  }
  if (state.kind === "failed") {
    return (
      <Centered>
        <Heading level="h1">The console cannot start</Heading>
        <Text className="text-ui-fg-subtle mt-2" role="alert">{errorMessage(state.error)}</Text>
        <Button className="mt-4" variant="secondary" onClick={() => void refresh()}>Try again</Button>
      </Centered>
    )
  }
  if (state.kind === "signed-out") {
    return <SignIn api={api} slug={loc.slug} notice={state.notice} onSignedIn={refresh} />
  }
  const session: Session = {
    api,
    appBase: loc.appBase,
    user: state.user,
    permissions: state.permissions,
    can: (p) => state.permissions.includes(p),
    signedOut: () => setState({ kind: "signed-out", notice: "You have been signed out." }),
  }
  const current = pages.find((p) => p.page === page) ?? pages[0]
  const signOut = async () => {
    try {
      await api.logout()
    } catch (e) {
      if (!isUnauthorized(e)) {
        toast.error(errorMessage(e))
        return
      }
    }
    session.signedOut()
  }
  return (
    <SessionContext.Provider value={session}>
      <div className="flex min-h-full">
        <nav aria-label="Console" className="bg-ui-bg-base border-ui-border-base flex w-60 shrink-0 flex-col border-r">
          <div className="px-4 py-4">
            <Text weight="plus" size="large">Gatehouse</Text>
            <Text size="small" className="text-ui-fg-subtle">{loc.slug ? `Tenant ${loc.slug}` : window.location.host}</Text>
          </div>
          <ul className="flex flex-col gap-0.5 px-2">
            {pages.map((p) => (
              <li key={p.page}>
                <a
                  href={loc.appBase + p.page}
                  aria-current={p.page === current.page ? "page" : undefined}
                  onClick={(e) => {
                    e.preventDefault()
                    navigate(loc.appBase, p.page)
                  }}
                  className={`txt-compact-small-plus block rounded-md px-3 py-1.5 ${p.page === current.page ? "bg-ui-bg-base-pressed text-ui-fg-base" : "text-ui-fg-subtle hover:bg-ui-bg-base-hover"}`}
                >
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
          <div className="mt-auto border-t border-ui-border-base px-4 py-3">
            <Text size="small" className="truncate" title={state.user.email} data-testid="signed-in-as">{state.user.email}</Text>
            <Button variant="secondary" size="small" className="mt-2 w-full" onClick={() => void signOut()}>Sign out</Button>
          </div>
        </nav>
        <main className="flex-1 overflow-x-auto p-6">
          <div className="mx-auto flex max-w-6xl flex-col gap-4">{current.render()}</div>
        </main>
      </div>
    </SessionContext.Provider>
  )
}

export function Centered({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-full items-center justify-center p-6">
      <div className="bg-ui-bg-base shadow-elevation-card-rest flex w-full max-w-sm flex-col rounded-xl p-6">{children}</div>
    </div>
  )
}
