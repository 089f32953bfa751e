import { Alert, Button, Heading, Text } from "@medusajs/ui"
import { useState } from "react"
import { Field, FormError, useAction } from "../components/common"
import type { TenantApi } from "../lib/api"
import type { MFAChallenge } from "../lib/types"
import { Centered } from "./TenantApp"

export function SignIn({ api, slug, notice, onSignedIn }: { api: TenantApi; slug?: string; notice?: string; onSignedIn: () => Promise<void> }) {
  const [email, setEmail] = useState("")
  const [password, setPassword] = useState("")
  const [challenge, setChallenge] = useState<MFAChallenge | null>(null)
  const [code, setCode] = useState("")
  const [useRecovery, setUseRecovery] = useState(false)
  const { busy, error, run } = useAction()

  const login = () =>
    run(async () => {
      const res = await api.login(email.trim(), password)
      setPassword("")
      if (res.kind === "mfa") {
        setChallenge(res.challenge)
        return
      }
      await onSignedIn()
    })

  const verify = () =>
    run(async () => {
      if (!challenge) return
      await api.verifyChallenge(challenge.id, useRecovery ? "recovery_code" : "totp", code.trim())
      await onSignedIn()
    })

  if (challenge) {
    return (
      <Centered>
        <Heading level="h1">Two-step verification</Heading>
        <Text size="small" className="text-ui-fg-subtle mb-4 mt-1">
          {useRecovery ? "Enter one of your recovery codes." : "Enter the 6-digit code from your authenticator app."}
        </Text>
        <form className="flex flex-col gap-4" onSubmit={(e) => { e.preventDefault(); void verify() }}>
          <Field
            label={useRecovery ? "Recovery code" : "Authentication code"}
            value={code}
            onChange={setCode}
            autoComplete="one-time-code"
            inputMode={useRecovery ? "text" : "numeric"}
            required
            autoFocus
          />
          <FormError error={error} />
          <Button type="submit" isLoading={busy}>Verify</Button>
          <Button type="button" variant="transparent" size="small" onClick={() => { setUseRecovery(!useRecovery); setCode("") }}>
            {useRecovery ? "Use an authenticator code" : "Use a recovery code"}
          </Button>
          <Button type="button" variant="transparent" size="small" onClick={() => { setChallenge(null); setCode("") }}>
            Back to sign in
          </Button>
        </form>
      </Centered>
    )
  }
  return (
    <Centered>
      <Heading level="h1">Sign in</Heading>
      <Text size="small" className="text-ui-fg-subtle mb-4 mt-1">
        Gatehouse admin console{slug ? ` — tenant ${slug}` : ""}
      </Text>
      {notice && <Alert variant="info" className="mb-4">{notice}</Alert>}
      <form className="flex flex-col gap-4" onSubmit={(e) => { e.preventDefault(); void login() }}>
        <Field label="Email" type="email" value={email} onChange={setEmail} autoComplete="username" required autoFocus />
        <Field label="Password" type="password" value={password} onChange={setPassword} autoComplete="current-password" required />
        <FormError error={error} />
        <Button type="submit" isLoading={busy}>Sign in</Button>
      </form>
    </Centered>
  )
}
