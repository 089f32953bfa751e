import { Alert, Badge, Button, Copy, IconButton, StatusBadge, Table, Text, toast, usePrompt } from "@medusajs/ui"
import { Trash } from "@medusajs/icons"
import { useState } from "react"
import { Checklist, Empty, ErrorNote, Field, FormDrawer, FormError, Loading, PageHeader, Section, date, useAction, useLoad } from "../components/common"
import { revokeDelay } from "../lib/api"
import { errorMessage } from "../lib/errors"
import type { ApiKey } from "../lib/types"
import { useSession } from "./context"

type Filter = "" | "secret" | "publishable"

function keyState(k: ApiKey): { label: string; color: "green" | "orange" | "red" } {
  if (!k.revoked_at) return { label: "Active", color: "green" }
  if (new Date(k.revoked_at).getTime() > Date.now()) return { label: `Revokes ${date(k.revoked_at)}`, color: "orange" }
  return { label: "Revoked", color: "red" }
}

export function ApiKeys() {
  const { api } = useSession()
  const prompt = usePrompt()
  const [type, setType] = useState<Filter>("")
  const keys = useLoad(() => api.listApiKeys({ type }), [api, type])
  const [creating, setCreating] = useState(false)
  const [secret, setSecret] = useState<ApiKey | null>(null)
  const [revoking, setRevoking] = useState<ApiKey | null>(null)
  const [linking, setLinking] = useState<ApiKey | null>(null)

  const remove = async (k: ApiKey) => {
    const ok = await prompt({ title: "Delete API key?", description: `"${k.title}" (${k.redacted}) is deleted for good.`, confirmText: "Delete key", variant: "danger" })
    if (!ok) return
    try {
      await api.deleteApiKey(k.id)
      toast.success("API key deleted")
      void keys.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  return (
    <>
      <Section>
        <PageHeader
          title="API keys"
          description="Secret keys act for a backend with their creator's roles; publishable keys identify a storefront's sales channels."
          actions={
            <>
              <label className="sr-only" htmlFor="key-type-filter">Key type</label>
              <select id="key-type-filter" className="bg-ui-bg-field border-ui-border-base txt-compact-small rounded-md border px-2 py-1.5" value={type} onChange={(e) => setType(e.target.value as Filter)}>
                <option value="">All keys</option>
                <option value="secret">Secret</option>
                <option value="publishable">Publishable</option>
              </select>
              <Button size="small" onClick={() => setCreating(true)}>Create key</Button>
            </>
          }
        />
        {secret && <OneTimeSecret apiKey={secret} onDone={() => setSecret(null)} />}
        {keys.loading && !keys.data ? <Loading what="API keys" /> : null}
        <ErrorNote error={keys.error} what="API keys" />
        {keys.data && keys.data.items.length === 0 && <Empty>No API keys yet.</Empty>}
        {keys.data && keys.data.items.length > 0 && (
          <Table>
            <Table.Header>
              <Table.Row>
                <Table.HeaderCell>Title</Table.HeaderCell>
                <Table.HeaderCell>Type</Table.HeaderCell>
                <Table.HeaderCell>Token</Table.HeaderCell>
                <Table.HeaderCell>Sales channels</Table.HeaderCell>
                <Table.HeaderCell>Status</Table.HeaderCell>
                <Table.HeaderCell>Last used</Table.HeaderCell>
                <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {keys.data.items.map((k) => {
                const st = keyState(k)
                return (
                  <Table.Row key={k.id} data-testid="key-row">
                    <Table.Cell>{k.title}</Table.Cell>
                    <Table.Cell><Badge size="2xsmall">{k.type}</Badge></Table.Cell>
                    <Table.Cell><code className="text-xs">{k.type === "publishable" && k.token ? k.token : k.redacted}</code></Table.Cell>
                    <Table.Cell>{k.sales_channels?.length ? k.sales_channels.map((c) => c.name).join(", ") : "—"}</Table.Cell>
                    <Table.Cell><StatusBadge color={st.color}>{st.label}</StatusBadge></Table.Cell>
                    <Table.Cell>{date(k.last_used_at)}</Table.Cell>
                    <Table.Cell className="text-right">
                      <div className="flex justify-end gap-2">
                        {!k.revoked_at && (
                          <Button size="small" variant="secondary" onClick={() => setLinking(k)} aria-label={`Sales channels of ${k.title}`}>Channels</Button>
                        )}
                        {!k.revoked_at && (
                          <Button size="small" variant="secondary" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.title}`}>Revoke</Button>
                        )}
                        {k.revoked_at && (
                          <IconButton size="small" variant="transparent" aria-label={`Delete ${k.title}`} onClick={() => void remove(k)}><Trash /></IconButton>
                        )}
                      </div>
                    </Table.Cell>
                  </Table.Row>
                )
              })}
            </Table.Body>
          </Table>
        )}
      </Section>
      <CreateKey
        open={creating}
        onOpenChange={setCreating}
        onCreated={(k) => {
          setCreating(false)
          if (k.type === "secret") setSecret(k)
          else toast.success(`Publishable key "${k.title}" created`)
          void keys.reload()
        }}
      />
      {revoking && <RevokeKey apiKey={revoking} onClose={() => setRevoking(null)} onRevoked={() => { setRevoking(null); void keys.reload() }} />}
      {linking && <KeyChannels apiKey={linking} onClose={() => setLinking(null)} onSaved={() => { setLinking(null); void keys.reload() }} />}
    </>
  )
}

function OneTimeSecret({ apiKey, onDone }: { apiKey: ApiKey; onDone: () => void }) {
  return (
    <div className="px-6 py-4" data-testid="one-time-secret">
      <Alert variant="warning">
        <strong className="block">Copy the secret key "{apiKey.title}" now.</strong>
        It is shown only this once: Gatehouse keeps a digest, not the key. If you lose it, revoke the key and create a new one.
      </Alert>
      <div className="mt-3 flex items-center gap-2">
        <code className="bg-ui-bg-base border-ui-border-base flex-1 break-all rounded border px-2 py-1.5 text-xs" data-testid="secret-token">{apiKey.token}</code>
        <Copy content={apiKey.token} aria-label="Copy secret key" />
        <Button size="small" variant="secondary" onClick={onDone}>I have copied it</Button>
      </div>
    </div>
  )
}

function CreateKey({ open, onOpenChange, onCreated }: { open: boolean; onOpenChange: (o: boolean) => void; onCreated: (k: ApiKey) => void }) {
  const { api } = useSession()
  const [title, setTitle] = useState("")
  const [type, setType] = useState<"secret" | "publishable">("secret")
  const [channels, setChannels] = useState<string[]>([])
  const all = useLoad(() => (open ? api.listChannels() : Promise.resolve(undefined)), [api, open])
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      const k = await api.createApiKey(title.trim(), type, channels)
      setTitle("")
      setChannels([])
      onCreated(k)
    })
  return (
    <FormDrawer open={open} onOpenChange={(o) => { onOpenChange(o); action.setError(undefined) }} title="Create API key" submitLabel="Create key" busy={action.busy} onSubmit={() => void submit()}>
      <Field label="Title" value={title} onChange={setTitle} required autoFocus />
      <fieldset className="flex flex-col gap-1.5">
        <legend className="txt-compact-small-plus mb-1.5">Type</legend>
        {(["secret", "publishable"] as const).map((t) => (
          <label key={t} className="flex items-center gap-2 txt-compact-small">
            <input type="radio" name="key-type" value={t} checked={type === t} onChange={() => setType(t)} />
            {t === "secret" ? "Secret (backend access to the admin API)" : "Publishable (storefront, scoped to sales channels)"}
          </label>
        ))}
      </fieldset>
      <Checklist
        legend={type === "secret" ? "Limit to sales channels (partner key)" : "Sales channels"}
        options={(all.data?.items ?? []).map((c) => ({ id: c.id, label: c.name, hint: c.is_disabled ? "disabled" : undefined }))}
        selected={channels}
        onChange={setChannels}
        empty="No sales channels yet."
      />
      {type === "secret" && (
        <Text size="xsmall" className="text-ui-fg-subtle">
          A secret key limited to channels is a partner key: it may only name those channels. The tenant setting partner_keys must be on.
        </Text>
      )}
      <FormError error={action.error} />
    </FormDrawer>
  )
}

function RevokeKey({ apiKey, onClose, onRevoked }: { apiKey: ApiKey; onClose: () => void; onRevoked: () => void }) {
  const { api } = useSession()
  const [delay, setDelay] = useState("0")
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      const seconds = revokeDelay(delay)
      await api.revokeApiKey(apiKey.id, seconds)
      toast.success(seconds ? `"${apiKey.title}" will stop working in ${seconds} s` : `"${apiKey.title}" revoked`)
      onRevoked()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={`Revoke "${apiKey.title}"?`} description="Requests with this key are refused once it is revoked, on every node. This cannot be undone." submitLabel="Revoke key" busy={action.busy} onSubmit={() => void submit()}>
      <Field label="Revoke in (seconds)" value={delay} onChange={setDelay} inputMode="numeric" hint="0 revokes now; a delay lets you rotate to a new key first." />
      <FormError error={action.error} />
    </FormDrawer>
  )
}

function KeyChannels({ apiKey, onClose, onSaved }: { apiKey: ApiKey; onClose: () => void; onSaved: () => void }) {
  const { api } = useSession()
  const initial = (apiKey.sales_channels ?? []).map((c) => c.id)
  const [chosen, setChosen] = useState<string[]>(initial)
  const all = useLoad(() => api.listChannels(), [api])
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      const add = chosen.filter((id) => !initial.includes(id))
      const remove = initial.filter((id) => !chosen.includes(id))
      if (add.length || remove.length) await api.linkKeyChannels(apiKey.id, add, remove)
      toast.success("Sales channels saved")
      onSaved()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={`Sales channels of "${apiKey.title}"`} description={apiKey.type === "secret" ? "Limits this partner key to the chosen channels." : "The storefront using this key sees these channels."} submitLabel="Save" busy={action.busy} onSubmit={() => void submit()}>
      <ErrorNote error={all.error} what="sales channels" />
      <Checklist legend="Sales channels" options={(all.data?.items ?? []).map((c) => ({ id: c.id, label: c.name }))} selected={chosen} onChange={setChosen} empty="No sales channels yet." />
      <FormError error={action.error} />
    </FormDrawer>
  )
}
