import { Badge, Button, Copy, IconButton, Table, Text, toast, usePrompt } from "@medusajs/ui"
import { Trash } from "@medusajs/icons"
import { useState } from "react"
import {
  Checklist, Empty, ErrorNote, FormDrawer, FormError, Field, Loading, PageHeader, Pager, SearchBox, Section, date, useAction, useLoad,
} from "../components/common"
import { errorMessage } from "../lib/errors"
import type { AssignableRole, Invite, Role, User } from "../lib/types"
import { useSession } from "./context"

export function inviteLink(appBase: string, token: string): string {
  return `${window.location.origin}${appBase}invite?token=${encodeURIComponent(token)}`
}

export function Users() {
  const { api, user: me } = useSession()
  const prompt = usePrompt()
  const [q, setQ] = useState("")
  const [offset, setOffset] = useState(0)
  const users = useLoad(() => api.listUsers({ q, offset, limit: 20 }), [api, q, offset])
  const [rolesFor, setRolesFor] = useState<User | null>(null)

  const remove = async (u: User) => {
    const ok = await prompt({
      title: "Remove user?",
      description: `${u.email} loses access to this tenant at once: their sessions and tokens stop working. This cannot be undone.`,
      confirmText: "Remove user",
      variant: "danger",
    })
    if (!ok) return
    try {
      await api.deleteUser(u.id)
      toast.success(`Removed ${u.email}`)
      void users.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  return (
    <>
      <Section>
        <PageHeader title="Users" description="People who can sign in to this tenant's admin." actions={<SearchBox label="Search users" value={q} onChange={(v) => { setQ(v); setOffset(0) }} />} />
        {users.loading && !users.data ? <Loading what="users" /> : null}
        <ErrorNote error={users.error} what="users" />
        {users.data && users.data.items.length === 0 && <Empty>{q ? "No user matches your search." : "No users yet."}</Empty>}
        {users.data && users.data.items.length > 0 && (
          <Table>
            <Table.Header>
              <Table.Row>
                <Table.HeaderCell>Email</Table.HeaderCell>
                <Table.HeaderCell>Name</Table.HeaderCell>
                <Table.HeaderCell>Created</Table.HeaderCell>
                <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {users.data.items.map((u) => (
                <Table.Row key={u.id} data-testid="user-row">
                  <Table.Cell>{u.email} {u.id === me.id && <Badge size="2xsmall">you</Badge>}</Table.Cell>
                  <Table.Cell>{[u.first_name, u.last_name].filter(Boolean).join(" ") || "—"}</Table.Cell>
                  <Table.Cell>{date(u.created_at)}</Table.Cell>
                  <Table.Cell className="text-right">
                    <div className="flex justify-end gap-2">
                      <Button size="small" variant="secondary" onClick={() => setRolesFor(u)} aria-label={`Roles of ${u.email}`}>Roles</Button>
                      {u.id !== me.id && (
                        <IconButton size="small" variant="transparent" aria-label={`Remove ${u.email}`} onClick={() => void remove(u)}>
                          <Trash />
                        </IconButton>
                      )}
                    </div>
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        )}
        {users.data && <Pager offset={offset} limit={20} count={users.data.count} onChange={setOffset} />}
      </Section>
      <Invites />
      {rolesFor && <UserRoles user={rolesFor} onClose={() => setRolesFor(null)} />}
    </>
  )
}

function Invites() {
  const { api, appBase } = useSession()
  const prompt = usePrompt()
  const invites = useLoad(() => api.listInvites(), [api])
  const roles = useLoad(() => api.listAssignableRoles().catch(() => [] as AssignableRole[]), [api])
  const [open, setOpen] = useState(false)
  const [email, setEmail] = useState("")
  const [chosen, setChosen] = useState<string[]>([])
  const [created, setCreated] = useState<Invite | null>(null)
  const action = useAction()

  const create = () =>
    action.run(async () => {
      const inv = await api.createInvite(email.trim(), chosen)
      setOpen(false)
      setEmail("")
      setChosen([])
      setCreated(inv)
      void invites.reload()
    })

  const resend = async (inv: Invite) => {
    try {
      const fresh = await api.resendInvite(inv.id)
      setCreated(fresh)
      toast.success(`Invite to ${inv.email} renewed`)
      void invites.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }
  const remove = async (inv: Invite) => {
    const ok = await prompt({ title: "Delete invite?", description: `The invite link sent to ${inv.email} stops working.`, confirmText: "Delete invite", variant: "danger" })
    if (!ok) return
    try {
      await api.deleteInvite(inv.id)
      toast.success("Invite deleted")
      void invites.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  const pending = invites.data?.items.filter((i) => !i.accepted) ?? []
  return (
    <Section>
      <PageHeader title="Invites" description="Pending invitations. An invite link is shown once, when it is made or resent." actions={<Button size="small" onClick={() => setOpen(true)}>Invite user</Button>} />
      {created?.token && (
        <div className="bg-ui-bg-highlight px-6 py-4" data-testid="invite-created">
          <Text size="small" weight="plus">Invite link for {created.email}</Text>
          <Text size="small" className="text-ui-fg-subtle">Send this link to the person you invited. It is not shown again; resend the invite for a new one.</Text>
          <div className="mt-2 flex items-center gap-2">
            <code className="bg-ui-bg-base border-ui-border-base flex-1 truncate rounded border px-2 py-1 text-xs" data-testid="invite-link">{inviteLink(appBase, created.token)}</code>
            <Copy content={inviteLink(appBase, created.token)} aria-label="Copy invite link" />
          </div>
        </div>
      )}
      {invites.loading && !invites.data ? <Loading what="invites" /> : null}
      <ErrorNote error={invites.error} what="invites" />
      {invites.data && pending.length === 0 && <Empty>No pending invites.</Empty>}
      {pending.length > 0 && (
        <Table>
          <Table.Header>
            <Table.Row>
              <Table.HeaderCell>Email</Table.HeaderCell>
              <Table.HeaderCell>Roles</Table.HeaderCell>
              <Table.HeaderCell>Expires</Table.HeaderCell>
              <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {pending.map((inv) => (
              <Table.Row key={inv.id} data-testid="invite-row">
                <Table.Cell>{inv.email}</Table.Cell>
                <Table.Cell>{inv.roles?.length ? inv.roles.join(", ") : "—"}</Table.Cell>
                <Table.Cell>{date(inv.expires_at)}</Table.Cell>
                <Table.Cell className="text-right">
                  <div className="flex justify-end gap-2">
                    <Button size="small" variant="secondary" onClick={() => void resend(inv)} aria-label={`Resend invite to ${inv.email}`}>Resend</Button>
                    <IconButton size="small" variant="transparent" aria-label={`Delete invite to ${inv.email}`} onClick={() => void remove(inv)}><Trash /></IconButton>
                  </div>
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      <FormDrawer open={open} onOpenChange={(o) => { setOpen(o); action.setError(undefined) }} title="Invite user" submitLabel="Send invite" busy={action.busy} onSubmit={() => void create()}>
        <Field label="Email" type="email" value={email} onChange={setEmail} required autoFocus />
        <Checklist
          legend="Roles"
          options={(roles.data ?? []).map((r) => ({ id: r.id, label: r.name }))}
          selected={chosen}
          onChange={setChosen}
          empty="No roles you may assign; the user gets none."
        />
        <FormError error={action.error} />
      </FormDrawer>
    </Section>
  )
}

function UserRoles({ user, onClose }: { user: User; onClose: () => void }) {
  const { api } = useSession()
  const current = useLoad(() => api.userRoles(user.id), [api, user.id])
  const all = useLoad(() => api.listAssignableRoles(), [api])
  const [chosen, setChosen] = useState<string[]>([])
  const action = useAction()
  const have = new Set((current.data ?? []).map((r) => r.id))
  const add = () =>
    action.run(async () => {
      if (chosen.length) await api.addUserRoles(user.id, chosen)
      setChosen([])
      toast.success(`Roles of ${user.email} updated`)
      void current.reload()
    })
  const removeRole = (r: Role) =>
    action.run(async () => {
      await api.removeUserRole(user.id, r.id)
      void current.reload()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={`Roles of ${user.email}`} submitLabel="Assign selected roles" busy={action.busy} onSubmit={() => void add()}>
      <ErrorNote error={current.error} what="this user's roles" />
      <div>
        <Text size="small" weight="plus" className="mb-2">Current roles</Text>
        {current.loading && !current.data && <Loading what="roles" />}
        {current.data?.length === 0 && <Text size="small" className="text-ui-fg-muted">No roles: this user can sign in but do nothing.</Text>}
        <ul className="flex flex-col gap-1">
          {current.data?.map((r) => (
            <li key={r.id} className="flex items-center justify-between txt-compact-small">
              <span>{r.name} <span className="text-ui-fg-muted">{r.id}</span></span>
              <Button type="button" size="small" variant="transparent" onClick={() => void removeRole(r)} aria-label={`Remove role ${r.name}`}>Remove</Button>
            </li>
          ))}
        </ul>
      </div>
      <Checklist
        legend="Add roles"
        options={(all.data ?? []).filter((r) => !have.has(r.id)).map((r) => ({ id: r.id, label: r.name }))}
        selected={chosen}
        onChange={setChosen}
        empty="No other roles."
      />
      <FormError error={action.error} />
    </FormDrawer>
  )
}
