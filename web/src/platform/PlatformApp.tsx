import { Badge, Button, Heading, IconButton, StatusBadge, Table, Text, Textarea, Label, toast, usePrompt } from "@medusajs/ui"
import { Trash } from "@medusajs/icons"
import { useMemo, useState } from "react"
import { Empty, ErrorNote, Field, FormDrawer, FormError, Loading, PageHeader, SearchBox, Section, date, useAction, useLoad } from "../components/common"
import { parseSettings, platformApi, type PlatformApi } from "../lib/api"
import type { AppLocation } from "../lib/base"
import { errorMessage, isUnauthorized } from "../lib/errors"
import { platformSDK } from "../lib/sdk"
import type { Tenant } from "../lib/types"
import { Centered } from "../tenant/TenantApp"

/**
 * PlatformApp is the operators' console. The platform key lives in this
 * component's state only: a reload forgets it.
 */
export function PlatformApp({ loc }: { loc: AppLocation }) {
  const [key, setKey] = useState("")
  const api = useMemo(() => (key ? platformApi(platformSDK(loc.apiBase, key)) : null), [key, loc.apiBase])
  if (!api) return <PlatformSignIn apiBase={loc.apiBase} onKey={setKey} />
  return (
    <div className="mx-auto flex max-w-6xl flex-col gap-4 p-6">
      <div className="flex items-center justify-between">
        <div>
          <Heading level="h1">Gatehouse platform</Heading>
          <Text size="small" className="text-ui-fg-subtle">Tenants of this Gatehouse installation</Text>
        </div>
        <Button size="small" variant="secondary" onClick={() => setKey("")}>Sign out</Button>
      </div>
      <Tenants api={api} onUnauthorized={() => setKey("")} />
    </div>
  )
}

function PlatformSignIn({ apiBase, onKey }: { apiBase: string; onKey: (k: string) => void }) {
  const [key, setKey] = useState("")
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      const k = key.trim()
      await platformApi(platformSDK(apiBase, k)).listTenants({ limit: 1 })
      setKey("")
      onKey(k)
    })
  return (
    <Centered>
      <Heading level="h1">Platform sign in</Heading>
      <Text size="small" className="text-ui-fg-subtle mb-4 mt-1">Enter the platform key (GATEHOUSE_PLATFORM_KEY). It is kept in this page's memory only.</Text>
      <form className="flex flex-col gap-4" onSubmit={(e) => { e.preventDefault(); void submit() }}>
        <Field label="Platform key" type="password" value={key} onChange={setKey} autoComplete="off" required autoFocus />
        {action.error ? <FormError error={isUnauthorized(action.error) ? new Error("That platform key is not valid.") : action.error} /> : null}
        <Button type="submit" isLoading={action.busy}>Sign in</Button>
      </form>
    </Centered>
  )
}

function Tenants({ api, onUnauthorized }: { api: PlatformApi; onUnauthorized: () => void }) {
  const prompt = usePrompt()
  const [q, setQ] = useState("")
  const tenants = useLoad(() => api.listTenants({ q }), [api, q])
  const [creating, setCreating] = useState(false)
  const [editing, setEditing] = useState<Tenant | null>(null)
  if (tenants.error && isUnauthorized(tenants.error)) onUnauthorized()

  const setSuspended = async (t: Tenant, suspended: boolean) => {
    if (suspended) {
      const ok = await prompt({ title: `Suspend ${t.slug}?`, description: "Every request to this tenant is refused with 403 until it is resumed.", confirmText: "Suspend tenant", variant: "danger" })
      if (!ok) return
    }
    try {
      await api.setSuspended(t.id, suspended)
      toast.success(`${t.slug} ${suspended ? "suspended" : "resumed"}`)
      void tenants.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  return (
    <Section>
      <PageHeader title="Tenants" actions={<><SearchBox label="Search tenants" value={q} onChange={setQ} /><Button size="small" onClick={() => setCreating(true)}>Create tenant</Button></>} />
      {tenants.loading && !tenants.data ? <Loading what="tenants" /> : null}
      <ErrorNote error={tenants.error} what="tenants" />
      {tenants.data && tenants.data.items.length === 0 && <Empty>No tenants.</Empty>}
      {tenants.data && tenants.data.items.length > 0 && (
        <Table>
          <Table.Header>
            <Table.Row>
              <Table.HeaderCell>Slug</Table.HeaderCell>
              <Table.HeaderCell>Name</Table.HeaderCell>
              <Table.HeaderCell>Status</Table.HeaderCell>
              <Table.HeaderCell>Domains</Table.HeaderCell>
              <Table.HeaderCell>Created</Table.HeaderCell>
              <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {tenants.data.items.map((t) => (
              <Table.Row key={t.id} data-testid="tenant-row">
                <Table.Cell><code className="text-xs">{t.slug}</code></Table.Cell>
                <Table.Cell>{t.name}</Table.Cell>
                <Table.Cell><StatusBadge color={t.status === "active" ? "green" : "red"}>{t.status}</StatusBadge></Table.Cell>
                <Table.Cell>{t.domains.length ? t.domains.map((d) => <Badge key={d} size="2xsmall" className="mr-1">{d}</Badge>) : "—"}</Table.Cell>
                <Table.Cell>{date(t.created_at)}</Table.Cell>
                <Table.Cell className="text-right">
                  <div className="flex justify-end gap-2">
                    <Button size="small" variant="secondary" onClick={() => setEditing(t)} aria-label={`Settings of ${t.slug}`}>Settings</Button>
                    {t.status === "active"
                      ? <Button size="small" variant="secondary" onClick={() => void setSuspended(t, true)} aria-label={`Suspend ${t.slug}`}>Suspend</Button>
                      : <Button size="small" variant="secondary" onClick={() => void setSuspended(t, false)} aria-label={`Resume ${t.slug}`}>Resume</Button>}
                  </div>
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      <CreateTenant api={api} open={creating} onOpenChange={setCreating} onCreated={() => { setCreating(false); void tenants.reload() }} />
      {editing && <TenantSettings api={api} tenant={editing} onClose={() => setEditing(null)} onSaved={() => void tenants.reload()} />}
    </Section>
  )
}

function CreateTenant({ api, open, onOpenChange, onCreated }: { api: PlatformApi; open: boolean; onOpenChange: (o: boolean) => void; onCreated: () => void }) {
  const [slug, setSlug] = useState("")
  const [name, setName] = useState("")
  const [domain, setDomain] = useState("")
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      const t = await api.createTenant({ slug: slug.trim(), name: name.trim(), domains: domain.trim() ? [domain.trim()] : undefined })
      toast.success(`Tenant ${t.slug} created`)
      setSlug("")
      setName("")
      setDomain("")
      onCreated()
    })
  return (
    <FormDrawer open={open} onOpenChange={(o) => { onOpenChange(o); action.setError(undefined) }} title="Create tenant" description="Its first admin is made with the CLI (gatehouse user create) or invited." submitLabel="Create tenant" busy={action.busy} onSubmit={() => void submit()}>
      <Field label="Slug" value={slug} onChange={setSlug} required autoFocus hint="Lower case; the tenant answers at /t/{slug} and {slug}.{base domain}." />
      <Field label="Name" value={name} onChange={setName} required />
      <Field label="Domain (optional)" value={domain} onChange={setDomain} placeholder="auth.shop.example" />
      <FormError error={action.error} />
    </FormDrawer>
  )
}

function TenantSettings({ api, tenant, onClose, onSaved }: { api: PlatformApi; tenant: Tenant; onClose: () => void; onSaved: () => void }) {
  const prompt = usePrompt()
  const [t, setT] = useState(tenant)
  const [name, setName] = useState(tenant.name)
  const [settings, setSettings] = useState(JSON.stringify(tenant.settings ?? {}, null, 2))
  const [host, setHost] = useState("")
  const action = useAction()
  const save = () =>
    action.run(async () => {
      const next = await api.updateTenant(t.id, { name: name.trim(), settings: parseSettings(settings) })
      setT(next)
      toast.success("Tenant saved")
      onSaved()
    })
  const addDomain = () =>
    action.run(async () => {
      if (!host.trim()) return
      setT(await api.addDomain(t.id, host.trim()))
      setHost("")
      onSaved()
    })
  const removeDomain = async (d: string) => {
    const ok = await prompt({ title: `Remove ${d}?`, description: "Requests for this host no longer reach the tenant.", confirmText: "Remove domain", variant: "danger" })
    if (!ok) return
    void action.run(async () => {
      setT(await api.removeDomain(t.id, d))
      onSaved()
    })
  }
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={`Tenant ${t.slug}`} description={t.id} submitLabel="Save" busy={action.busy} onSubmit={() => void save()}>
      <Field label="Name" value={name} onChange={setName} required />
      <div className="flex flex-col gap-1.5">
        <Label htmlFor="tenant-settings" size="small" weight="plus">Settings (JSON)</Label>
        <Textarea id="tenant-settings" rows={10} className="font-mono text-xs" value={settings} onChange={(e) => setSettings(e.target.value)} />
        <Text size="xsmall" className="text-ui-fg-subtle">Keys are described in docs/configuration.md (cors, partner_keys, throttling…).</Text>
      </div>
      <div className="flex flex-col gap-2">
        <Text size="small" weight="plus">Domains</Text>
        {t.domains.length === 0 && <Text size="small" className="text-ui-fg-muted">No domains.</Text>}
        <ul className="flex flex-col gap-1">
          {t.domains.map((d) => (
            <li key={d} className="flex items-center justify-between txt-compact-small">
              <code>{d}</code>
              <IconButton type="button" size="small" variant="transparent" aria-label={`Remove domain ${d}`} onClick={() => void removeDomain(d)}><Trash /></IconButton>
            </li>
          ))}
        </ul>
        <div className="flex items-end gap-2">
          <div className="flex-1"><Field label="Add domain" value={host} onChange={setHost} placeholder="auth.shop.example" /></div>
          <Button type="button" size="small" variant="secondary" onClick={() => void addDomain()}>Add</Button>
        </div>
      </div>
      <FormError error={action.error} />
    </FormDrawer>
  )
}
