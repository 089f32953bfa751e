import { Alert, Button, Copy, Heading, StatusBadge, Text, toast, usePrompt } from "@medusajs/ui"
import QRCode from "qrcode"
import { useEffect, useState } from "react"
import { ErrorNote, Field, FormError, Loading, PageHeader, Section, date, useAction, useLoad } from "../components/common"
import { errorMessage } from "../lib/errors"
import type { MFAFactor } from "../lib/types"
import { useSession } from "./context"

export function Account() {
  const { user } = useSession()
  return (
    <>
      <Section>
        <PageHeader title="My account" description={`Signed in as ${user.email}`} />
        <ChangePassword />
      </Section>
      <Section>
        <PageHeader title="Two-step verification" description="Ask for a code from an authenticator app at every sign-in." />
        <MFA />
      </Section>
      <Section>
        <PageHeader title="Sessions" />
        <SignOutEverywhere />
      </Section>
    </>
  )
}

function ChangePassword() {
  const { api } = useSession()
  const [current, setCurrent] = useState("")
  const [next, setNext] = useState("")
  const [repeat, setRepeat] = useState("")
  const action = useAction()
  const submit = () => {
    if (next !== repeat) {
      action.setError(new Error("The new passwords differ."))
      return
    }
    void action.run(async () => {
      await api.changePassword(current, next)
      setCurrent("")
      setNext("")
      setRepeat("")
      toast.success("Password changed")
    })
  }
  return (
    <div className="px-6 py-4">
    <form className="flex max-w-md flex-col gap-4" aria-label="Change password" onSubmit={(e) => { e.preventDefault(); submit() }}>
      <Heading level="h2">Change password</Heading>
      <Field label="Current password" type="password" value={current} onChange={setCurrent} autoComplete="current-password" required />
      <Field label="New password" type="password" value={next} onChange={setNext} autoComplete="new-password" required hint="A long passphrase; common passwords are refused." />
      <Field label="Repeat new password" type="password" value={repeat} onChange={setRepeat} autoComplete="new-password" required />
      <FormError error={action.error} />
      <div><Button type="submit" size="small" isLoading={action.busy}>Change password</Button></div>
    </form>
    </div>
  )
}

function MFA() {
  const { api } = useSession()
  const prompt = usePrompt()
  const factors = useLoad(() => api.listFactors(), [api])
  const [enrolment, setEnrolment] = useState<{ factor: MFAFactor; secret: string; otpauthURL: string } | null>(null)
  const [qr, setQr] = useState("")
  const [code, setCode] = useState("")
  const [codes, setCodes] = useState<string[] | null>(null)
  const action = useAction()

  useEffect(() => {
    if (!enrolment) return setQr("")
    QRCode.toDataURL(enrolment.otpauthURL, { margin: 1, width: 192 }).then(setQr, () => setQr(""))
  }, [enrolment])

  const enabled = (factors.data ?? []).filter((f) => f.status === "enabled")
  const start = () => action.run(async () => setEnrolment(await api.startTOTP("Authenticator app")))
  const verify = () =>
    action.run(async () => {
      if (!enrolment) return
      await api.verifyFactor(enrolment.factor.id, code.trim())
      setEnrolment(null)
      setCode("")
      toast.success("Two-step verification is on")
      setCodes(await api.recoveryCodes())
      void factors.reload()
    })
  const regenerate = async () => {
    const ok = await prompt({ title: "Make new recovery codes?", description: "Your old recovery codes stop working.", confirmText: "Make new codes" })
    if (!ok) return
    void action.run(async () => setCodes(await api.recoveryCodes()))
  }
  const disable = async (f: MFAFactor) => {
    const ok = await prompt({ title: "Turn off two-step verification?", description: "Signing in will need only your password. Your other sessions are signed out.", confirmText: "Turn off", variant: "danger" })
    if (!ok) return
    try {
      await api.disableFactor(f.id)
      toast.success("Two-step verification is off")
      void factors.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  if (factors.loading && !factors.data) return <Loading what="your factors" />
  return (
    <div className="flex flex-col gap-4 px-6 py-4">
      <ErrorNote error={factors.error} what="your MFA factors" />
      {enabled.length > 0 && (
        <div className="flex flex-col gap-2" data-testid="mfa-enabled">
          {enabled.map((f) => (
            <div key={f.id} className="flex items-center gap-3">
              <StatusBadge color="green">On</StatusBadge>
              <Text size="small">{f.label || "Authenticator app"} (since {date(f.created_at)})</Text>
              <Button size="small" variant="secondary" onClick={() => void disable(f)}>Turn off</Button>
            </div>
          ))}
          <div><Button size="small" variant="secondary" onClick={() => void regenerate()}>New recovery codes</Button></div>
        </div>
      )}
      {enabled.length === 0 && !enrolment && (
        <div className="flex items-center gap-3">
          <StatusBadge color="grey">Off</StatusBadge>
          <Button size="small" onClick={() => void start()} isLoading={action.busy}>Set up an authenticator app</Button>
        </div>
      )}
      {enrolment && (
        <form className="flex max-w-md flex-col gap-3" aria-label="Verify authenticator" onSubmit={(e) => { e.preventDefault(); void verify() }}>
          <Text size="small">Scan this code with your authenticator app, or enter the key by hand, then type the 6-digit code it shows.</Text>
          {qr ? <img src={qr} width={192} height={192} alt="QR code for your authenticator app" className="rounded border" /> : <Loading what="QR code" />}
          <div className="flex items-center gap-2">
            <code className="bg-ui-bg-subtle rounded px-2 py-1 text-xs" data-testid="totp-secret">{enrolment.secret}</code>
            <Copy content={enrolment.secret} aria-label="Copy setup key" />
          </div>
          <Field label="Code from the app" value={code} onChange={setCode} inputMode="numeric" autoComplete="one-time-code" required autoFocus />
          <div className="flex gap-2">
            <Button type="submit" size="small" isLoading={action.busy}>Verify and turn on</Button>
            <Button type="button" size="small" variant="secondary" onClick={() => { setEnrolment(null); setCode("") }}>Cancel</Button>
          </div>
        </form>
      )}
      {codes && (
        <div data-testid="recovery-codes">
          <Alert variant="warning">Save these recovery codes somewhere safe. Each works once, when you cannot use your app. They are not shown again.</Alert>
          <pre className="bg-ui-bg-subtle mt-2 rounded p-3 text-xs">{codes.join("\n")}</pre>
          <div className="mt-2 flex gap-2">
            <Copy content={codes.join("\n")} aria-label="Copy recovery codes" />
            <Button size="small" variant="secondary" onClick={() => setCodes(null)}>I have saved them</Button>
          </div>
        </div>
      )}
      <FormError error={action.error} />
    </div>
  )
}

function SignOutEverywhere() {
  const { api, signedOut } = useSession()
  const prompt = usePrompt()
  const action = useAction()
  const go = async () => {
    const ok = await prompt({ title: "Sign out everywhere?", description: "Every session and token of your account stops working at once, this one included.", confirmText: "Sign out everywhere", variant: "danger" })
    if (!ok) return
    const done = await action.run(async () => {
      await api.logoutAll()
      return true
    })
    if (done) signedOut()
  }
  return (
    <div className="flex flex-col gap-3 px-6 py-4">
      <Text size="small" className="text-ui-fg-subtle">Lost a device, or signed in somewhere you should not have? End every session of your account.</Text>
      <FormError error={action.error} />
      <div><Button size="small" variant="danger" onClick={() => void go()}>Sign out everywhere</Button></div>
    </div>
  )
}
