import { createContext, useContext } from "react"
import type { TenantApi } from "../lib/api"
import type { User } from "../lib/types"

export interface Session {
  api: TenantApi
  appBase: string
  user: User
  permissions: string[]
  can: (perm: string) => boolean
  signedOut: () => void
}

export const SessionContext = createContext<Session | null>(null)

export function useSession(): Session {
  const s = useContext(SessionContext)
  if (!s) throw new Error("useSession outside a signed-in console")
  return s
}
