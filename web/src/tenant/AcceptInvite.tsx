import { Button, Heading, Text } from "@medusajs/ui"
import { useState } from "react"
import { Field, FormError, useAction } from "../components/common"
import type { TenantApi } from "../lib/api"
import { Centered } from "./TenantApp"

/** AcceptInvite is the invite link's page (/app/invite?token=…): no session needed. */
export function AcceptInvite({ api, appBase }: { api: TenantApi; appBase: string }) {
  const token = new URLSearchParams(window.location.search).get("token") ?? ""
  const [email, setEmail] = useState("")
  const [first, setFirst] = useState("")
  const [last, setLast] = useState("")
  const [password, setPassword] = useState("")
  const [repeat, setRepeat] = useState("")
  const { busy, error, setError, run } = useAction()

  const accept = () => {
    if (password !== repeat) {
      setError(new Error("The two passwords differ."))
      return
    }
    void run(async () => {
      await api.acceptInvite(token, { email: email.trim(), password, first_name: first.trim(), last_name: last.trim() })
      await api.login(email.trim(), password)
      // Drop the token from the address bar and history, then open the console.
      window.location.replace(appBase + "users")
    })
  }

  if (!token) {
    return (
      <Centered>
        <Heading level="h1">Invite link incomplete</Heading>
        <Text className="text-ui-fg-subtle mt-2">This link has no invite token. Ask your administrator to resend the invite.</Text>
      </Centered>
    )
  }
  return (
    <Centered>
      <Heading level="h1">Accept your invite</Heading>
      <Text size="small" className="text-ui-fg-subtle mb-4 mt-1">Create your account: use the email address the invite was sent to.</Text>
      <form className="flex flex-col gap-4" onSubmit={(e) => { e.preventDefault(); accept() }}>
        <Field label="Email" type="email" value={email} onChange={setEmail} autoComplete="username" required autoFocus />
        <Field label="First name" value={first} onChange={setFirst} autoComplete="given-name" />
        <Field label="Last name" value={last} onChange={setLast} autoComplete="family-name" />
        <Field label="Password" type="password" value={password} onChange={setPassword} autoComplete="new-password" required />
        <Field label="Repeat password" type="password" value={repeat} onChange={setRepeat} autoComplete="new-password" required />
        <FormError error={error} />
        <Button type="submit" isLoading={busy}>Create account</Button>
      </form>
    </Centered>
  )
}
