import { Button, StatusBadge, Table } from "@medusajs/ui"
import { useState } from "react"
import { Empty, ErrorNote, Field, Loading, PageHeader, Pager, Section, date, useLoad } from "../components/common"
import type { AuditFilter } from "../lib/api"
import { useSession } from "./context"

const LIMIT = 50

export function Audit() {
  const { api } = useSession()
  const [form, setForm] = useState<AuditFilter>({})
  const [filter, setFilter] = useState<AuditFilter>({})
  const [offset, setOffset] = useState(0)
  const events = useLoad(() => api.listAuditEvents({ ...filter, offset, limit: LIMIT }), [api, filter, offset])
  const set = (k: keyof AuditFilter) => (v: string) => setForm({ ...form, [k]: v })

  return (
    <Section>
      <PageHeader title="Audit log" description="Every state-changing request to this tenant: who, what, on which object, and the result. Bodies are never recorded." />
      <form
        className="grid grid-cols-1 gap-3 px-6 py-4 md:grid-cols-5"
        aria-label="Filter audit events"
        onSubmit={(e) => {
          e.preventDefault()
          setOffset(0)
          setFilter({ ...form })
        }}
      >
        <Field label="Actor ID" value={form.actor_id ?? ""} onChange={set("actor_id")} placeholder="user_…" />
        <Field label="Action" value={form.action ?? ""} onChange={set("action")} placeholder="api_key.create" />
        <Field label="Target ID" value={form.target_id ?? ""} onChange={set("target_id")} />
        <Field label="From" type="datetime-local" value={form.since ?? ""} onChange={set("since")} />
        <Field label="To" type="datetime-local" value={form.until ?? ""} onChange={set("until")} />
        <div className="flex gap-2 md:col-span-5">
          <Button size="small" type="submit">Apply filters</Button>
          <Button size="small" type="button" variant="secondary" onClick={() => { setForm({}); setFilter({}); setOffset(0) }}>Clear</Button>
        </div>
      </form>
      {events.loading && !events.data ? <Loading what="audit events" /> : null}
      <ErrorNote error={events.error} what="the audit log" />
      {events.data && events.data.items.length === 0 && <Empty>No audit events match.</Empty>}
      {events.data && events.data.items.length > 0 && (
        <Table>
          <Table.Header>
            <Table.Row>
              <Table.HeaderCell>When</Table.HeaderCell>
              <Table.HeaderCell>Actor</Table.HeaderCell>
              <Table.HeaderCell>Action</Table.HeaderCell>
              <Table.HeaderCell>Target</Table.HeaderCell>
              <Table.HeaderCell>Result</Table.HeaderCell>
              <Table.HeaderCell>Client</Table.HeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {events.data.items.map((ev) => (
              <Table.Row key={ev.id} data-testid="audit-row">
                <Table.Cell className="whitespace-nowrap">{date(ev.created_at)}</Table.Cell>
                <Table.Cell><span className="text-ui-fg-subtle">{ev.actor_type || "—"}</span> <code className="text-xs">{ev.actor_id}</code></Table.Cell>
                <Table.Cell><code className="text-xs">{ev.action}</code></Table.Cell>
                <Table.Cell><span className="text-ui-fg-subtle">{ev.target_type}</span> <code className="text-xs">{ev.target_id}</code></Table.Cell>
                <Table.Cell><StatusBadge color={ev.result === "success" ? "green" : "red"}>{ev.status}</StatusBadge></Table.Cell>
                <Table.Cell className="text-ui-fg-subtle">{ev.ip}</Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      {events.data && <Pager offset={offset} limit={LIMIT} count={events.data.count} onChange={setOffset} />}
    </Section>
  )
}
