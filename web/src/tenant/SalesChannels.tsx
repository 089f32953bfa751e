import { Button, IconButton, StatusBadge, Switch, Table, Label, toast, usePrompt } from "@medusajs/ui"
import { Trash } from "@medusajs/icons"
import { useState } from "react"
import { Empty, ErrorNote, Field, FormDrawer, FormError, Loading, PageHeader, SearchBox, Section, date, useAction, useLoad } from "../components/common"
import { errorMessage } from "../lib/errors"
import type { SalesChannel } from "../lib/types"
import { useSession } from "./context"

export function SalesChannels() {
  const { api } = useSession()
  const prompt = usePrompt()
  const [q, setQ] = useState("")
  const channels = useLoad(() => api.listChannels({ q }), [api, q])
  const [editing, setEditing] = useState<SalesChannel | "new" | null>(null)

  const remove = async (c: SalesChannel) => {
    const ok = await prompt({ title: "Delete sales channel?", description: `"${c.name}" is deleted and unlinked from its publishable keys.`, confirmText: "Delete channel", variant: "danger" })
    if (!ok) return
    try {
      await api.deleteChannel(c.id)
      toast.success("Sales channel deleted")
      void channels.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }
  const toggle = async (c: SalesChannel) => {
    try {
      await api.updateChannel(c.id, { is_disabled: !c.is_disabled })
      void channels.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  return (
    <Section>
      <PageHeader title="Sales channels" description="Storefronts and marketplaces; publishable keys are scoped to them." actions={<><SearchBox label="Search channels" value={q} onChange={setQ} /><Button size="small" onClick={() => setEditing("new")}>Create channel</Button></>} />
      {channels.loading && !channels.data ? <Loading what="sales channels" /> : null}
      <ErrorNote error={channels.error} what="sales channels" />
      {channels.data && channels.data.items.length === 0 && <Empty>{q ? "No channel matches your search." : "No sales channels yet."}</Empty>}
      {channels.data && channels.data.items.length > 0 && (
        <Table>
          <Table.Header>
            <Table.Row>
              <Table.HeaderCell>Name</Table.HeaderCell>
              <Table.HeaderCell>Description</Table.HeaderCell>
              <Table.HeaderCell>Status</Table.HeaderCell>
              <Table.HeaderCell>Publishable keys</Table.HeaderCell>
              <Table.HeaderCell>Created</Table.HeaderCell>
              <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {channels.data.items.map((c) => (
              <Table.Row key={c.id} data-testid="channel-row">
                <Table.Cell>{c.name}</Table.Cell>
                <Table.Cell>{c.description || "—"}</Table.Cell>
                <Table.Cell><StatusBadge color={c.is_disabled ? "grey" : "green"}>{c.is_disabled ? "Disabled" : "Enabled"}</StatusBadge></Table.Cell>
                <Table.Cell>{c.publishable_api_keys?.length ? c.publishable_api_keys.map((k) => k.title).join(", ") : "—"}</Table.Cell>
                <Table.Cell>{date(c.created_at)}</Table.Cell>
                <Table.Cell className="text-right">
                  <div className="flex items-center justify-end gap-2">
                    <div className="flex items-center gap-1.5">
                      <Switch id={`enabled-${c.id}`} checked={!c.is_disabled} onCheckedChange={() => void toggle(c)} />
                      <Label htmlFor={`enabled-${c.id}`} size="xsmall">Enabled</Label>
                    </div>
                    <Button size="small" variant="secondary" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>Edit</Button>
                    <IconButton size="small" variant="transparent" aria-label={`Delete ${c.name}`} onClick={() => void remove(c)}><Trash /></IconButton>
                  </div>
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      {editing && <EditChannel channel={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); void channels.reload() }} />}
    </Section>
  )
}

function EditChannel({ channel, onClose, onSaved }: { channel: SalesChannel | null; onClose: () => void; onSaved: () => void }) {
  const { api } = useSession()
  const [name, setName] = useState(channel?.name ?? "")
  const [description, setDescription] = useState(channel?.description ?? "")
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      if (channel) await api.updateChannel(channel.id, { name: name.trim(), description: description.trim() || null })
      else await api.createChannel({ name: name.trim(), description: description.trim() || undefined })
      toast.success(channel ? "Sales channel saved" : "Sales channel created")
      onSaved()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={channel ? `Edit "${channel.name}"` : "Create sales channel"} submitLabel={channel ? "Save" : "Create"} busy={action.busy} onSubmit={() => void submit()}>
      <Field label="Name" value={name} onChange={setName} required autoFocus />
      <Field label="Description" value={description} onChange={setDescription} />
      <FormError error={action.error} />
    </FormDrawer>
  )
}
