import { Button, IconButton, Table, Text, toast, usePrompt } from "@medusajs/ui"
import { Trash } from "@medusajs/icons"
import { useState } from "react"
import { Checklist, Empty, ErrorNote, Field, FormDrawer, FormError, Loading, PageHeader, Section, useAction, useLoad } from "../components/common"
import { errorMessage } from "../lib/errors"
import type { Policy, Role } from "../lib/types"
import { useSession } from "./context"

export function Roles() {
  const { api } = useSession()
  const prompt = usePrompt()
  const roles = useLoad(() => api.listRoles(), [api])
  const policies = useLoad(() => api.listPolicies(), [api])
  const [editing, setEditing] = useState<Role | "new" | null>(null)
  const [members, setMembers] = useState<Role | null>(null)
  const [newPolicy, setNewPolicy] = useState(false)

  const removeRole = async (r: Role) => {
    const ok = await prompt({ title: "Delete role?", description: `"${r.name}" is removed from every user and key that holds it.`, confirmText: "Delete role", variant: "danger" })
    if (!ok) return
    try {
      await api.deleteRole(r.id)
      toast.success("Role deleted")
      void roles.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }
  const removePolicy = async (p: Policy) => {
    const ok = await prompt({ title: "Delete policy?", description: `"${p.key}" is removed from every role.`, confirmText: "Delete policy", variant: "danger" })
    if (!ok) return
    try {
      await api.deletePolicy(p.id)
      toast.success("Policy deleted")
      void policies.reload()
    } catch (e) {
      toast.error(errorMessage(e))
    }
  }

  return (
    <>
      <Section>
        <PageHeader title="Roles" description="A role grants policies; users and secret keys hold roles." actions={<Button size="small" onClick={() => setEditing("new")}>Create role</Button>} />
        {roles.loading && !roles.data ? <Loading what="roles" /> : null}
        <ErrorNote error={roles.error} what="roles" />
        {roles.data && roles.data.items.length === 0 && <Empty>No roles.</Empty>}
        {roles.data && roles.data.items.length > 0 && (
          <Table>
            <Table.Header>
              <Table.Row>
                <Table.HeaderCell>Name</Table.HeaderCell>
                <Table.HeaderCell>ID</Table.HeaderCell>
                <Table.HeaderCell>Description</Table.HeaderCell>
                <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {roles.data.items.map((r) => (
                <Table.Row key={r.id} data-testid="role-row">
                  <Table.Cell>{r.name}</Table.Cell>
                  <Table.Cell><code className="text-xs">{r.id}</code></Table.Cell>
                  <Table.Cell>{r.description || "—"}</Table.Cell>
                  <Table.Cell className="text-right">
                    <div className="flex justify-end gap-2">
                      <Button size="small" variant="secondary" onClick={() => setMembers(r)} aria-label={`Users of ${r.name}`}>Users</Button>
                      <Button size="small" variant="secondary" onClick={() => setEditing(r)} aria-label={`Edit ${r.name}`}>Edit</Button>
                      <IconButton size="small" variant="transparent" aria-label={`Delete ${r.name}`} onClick={() => void removeRole(r)}><Trash /></IconButton>
                    </div>
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        )}
      </Section>
      <Section>
        <PageHeader title="Policies" description="A policy allows one operation on one resource (resource:operation)." actions={<Button size="small" variant="secondary" onClick={() => setNewPolicy(true)}>Create policy</Button>} />
        {policies.loading && !policies.data ? <Loading what="policies" /> : null}
        <ErrorNote error={policies.error} what="policies" />
        {policies.data && policies.data.items.length === 0 && <Empty>No policies.</Empty>}
        {policies.data && policies.data.items.length > 0 && (
          <Table>
            <Table.Header>
              <Table.Row>
                <Table.HeaderCell>Key</Table.HeaderCell>
                <Table.HeaderCell>Name</Table.HeaderCell>
                <Table.HeaderCell className="text-right">Actions</Table.HeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {policies.data.items.map((p) => (
                <Table.Row key={p.id}>
                  <Table.Cell><code className="text-xs">{p.key}</code></Table.Cell>
                  <Table.Cell>{p.name || "—"}</Table.Cell>
                  <Table.Cell className="text-right">
                    <IconButton size="small" variant="transparent" aria-label={`Delete policy ${p.key}`} onClick={() => void removePolicy(p)}><Trash /></IconButton>
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        )}
      </Section>
      {editing && <EditRole role={editing === "new" ? null : editing} policies={policies.data?.items ?? []} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); void roles.reload() }} />}
      {members && <RoleUsers role={members} onClose={() => setMembers(null)} />}
      {newPolicy && <CreatePolicy onClose={() => setNewPolicy(false)} onSaved={() => { setNewPolicy(false); void policies.reload() }} />}
    </>
  )
}

function EditRole({ role, policies, onClose, onSaved }: { role: Role | null; policies: Policy[]; onClose: () => void; onSaved: () => void }) {
  const { api } = useSession()
  const [name, setName] = useState(role?.name ?? "")
  const [description, setDescription] = useState(role?.description ?? "")
  const current = useLoad(() => (role ? api.rolePolicies(role.id) : Promise.resolve([])), [api, role?.id])
  const initial = (current.data ?? []).map((rp) => rp.policy_id)
  const [chosen, setChosen] = useState<string[] | null>(null)
  const selected = chosen ?? initial
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      if (!role) {
        await api.createRole({ name: name.trim(), description: description.trim() || undefined, policy_ids: selected })
      } else {
        await api.updateRole(role.id, { name: name.trim(), description: description.trim() || null })
        const add = selected.filter((id) => !initial.includes(id))
        const remove = initial.filter((id) => !selected.includes(id))
        if (add.length) await api.addRolePolicies(role.id, add)
        for (const id of remove) await api.removeRolePolicy(role.id, id)
      }
      toast.success(role ? "Role saved" : "Role created")
      onSaved()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={role ? `Edit "${role.name}"` : "Create role"} description="You can only grant policies you hold yourself." submitLabel={role ? "Save" : "Create role"} busy={action.busy} onSubmit={() => void submit()}>
      <Field label="Name" value={name} onChange={setName} required autoFocus />
      <Field label="Description" value={description} onChange={setDescription} />
      {role && current.loading && !current.data ? <Loading what="policies" /> : (
        <Checklist legend="Policies" options={policies.map((p) => ({ id: p.id, label: p.key }))} selected={selected} onChange={setChosen} empty="No policies." />
      )}
      <FormError error={action.error} />
    </FormDrawer>
  )
}

function RoleUsers({ role, onClose }: { role: Role; onClose: () => void }) {
  const { api } = useSession()
  const members = useLoad(() => api.roleUsers(role.id), [api, role.id])
  const all = useLoad(() => api.listUsers({ limit: 200 }), [api])
  const [chosen, setChosen] = useState<string[]>([])
  const action = useAction()
  const have = new Set((members.data ?? []).map((u) => u.id))
  const submit = () =>
    action.run(async () => {
      if (chosen.length) await api.addRoleUsers(role.id, chosen)
      setChosen([])
      toast.success(`Users of "${role.name}" updated`)
      void members.reload()
    })
  const remove = (id: string) =>
    action.run(async () => {
      await api.removeRoleUsers(role.id, [id])
      void members.reload()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title={`Users of "${role.name}"`} submitLabel="Assign selected users" busy={action.busy} onSubmit={() => void submit()}>
      <ErrorNote error={members.error} what="this role's users" />
      <div>
        <Text size="small" weight="plus" className="mb-2">Holders</Text>
        {members.data?.length === 0 && <Text size="small" className="text-ui-fg-muted">Nobody holds this role.</Text>}
        <ul className="flex flex-col gap-1">
          {members.data?.map((u) => (
            <li key={u.id} className="flex items-center justify-between txt-compact-small">
              <span>{u.email}</span>
              <Button type="button" size="small" variant="transparent" onClick={() => void remove(u.id)} aria-label={`Unassign ${u.email}`}>Unassign</Button>
            </li>
          ))}
        </ul>
      </div>
      <Checklist legend="Assign to" options={(all.data?.items ?? []).filter((u) => !have.has(u.id)).map((u) => ({ id: u.id, label: u.email }))} selected={chosen} onChange={setChosen} empty="Every user holds it." />
      <FormError error={action.error} />
    </FormDrawer>
  )
}

function CreatePolicy({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const { api } = useSession()
  const [resource, setResource] = useState("")
  const [operation, setOperation] = useState("")
  const [name, setName] = useState("")
  const action = useAction()
  const submit = () =>
    action.run(async () => {
      const r = resource.trim()
      const o = operation.trim()
      await api.createPolicy({ key: `${r}:${o}`, resource: r, operation: o, name: name.trim() || undefined })
      toast.success("Policy created")
      onSaved()
    })
  return (
    <FormDrawer open onOpenChange={(o) => !o && onClose()} title="Create policy" submitLabel="Create policy" busy={action.busy} onSubmit={() => void submit()}>
      <Field label="Resource" value={resource} onChange={setResource} required autoFocus placeholder="webhook" />
      <Field label="Operation" value={operation} onChange={setOperation} required placeholder="read" />
      <Field label="Name" value={name} onChange={setName} />
      <FormError error={action.error} />
    </FormDrawer>
  )
}
