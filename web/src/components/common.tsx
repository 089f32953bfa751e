import { Alert, Button, Container, Drawer, Heading, Input, Label, Text } from "@medusajs/ui"
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react"
import { errorMessage, isForbidden } from "../lib/errors"

/** useLoad runs a loader on mount and on reload(), tracking loading and errors. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const seq = useRef(0)
  const reload = useCallback(async () => {
    const n = ++seq.current
    setLoading(true)
    try {
      const v = await load()
      if (n === seq.current) {
        setData(v)
        setError(undefined)
      }
    } catch (e) {
      if (n === seq.current) setError(e)
    } finally {
      if (n === seq.current) setLoading(false)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps)
  useEffect(() => {
    void reload()
  }, [reload])
  return { data, error, loading, reload }
}

export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ReactNode }) {
  return (
    <div className="flex items-start justify-between gap-4 px-6 py-4">
      <div>
        <Heading level="h1">{title}</Heading>
        {description && <Text size="small" className="text-ui-fg-subtle mt-1">{description}</Text>}
      </div>
      {actions && <div className="flex shrink-0 items-center gap-2">{actions}</div>}
    </div>
  )
}

export function Section({ children, className = "" }: { children: ReactNode; className?: string }) {
  return <Container className={`divide-y p-0 ${className}`}>{children}</Container>
}

export function Loading({ what }: { what: string }) {
  return (
    <div role="status" aria-live="polite" className="text-ui-fg-subtle px-6 py-8 text-center txt-compact-small">
      Loading {what}…
    </div>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="text-ui-fg-muted px-6 py-8 text-center txt-compact-small">{children}</div>
}

/** ErrorNote shows an API error; a 403 is said as a permissions problem. */
export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null
  const forbidden = isForbidden(error)
  return (
    <div className="px-6 py-4">
      <Alert variant={forbidden ? "warning" : "error"} data-testid={forbidden ? "forbidden" : "error"}>
        {forbidden && what ? <strong className="block">You do not have access to {what}.</strong> : null}
        {errorMessage(error)}
      </Alert>
    </div>
  )
}

/** Field is a labelled input: the label names it for screen readers and tests. */
export function Field(props: {
  label: string
  value: string
  onChange: (v: string) => void
  type?: string
  required?: boolean
  autoComplete?: string
  placeholder?: string
  hint?: string
  autoFocus?: boolean
  inputMode?: "numeric" | "text" | "email"
  name?: string
}) {
  const id = useId()
  return (
    <div className="flex flex-col gap-1.5">
      <Label htmlFor={id} size="small" weight="plus">{props.label}</Label>
      <Input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-required={props.required || undefined}
        autoComplete={props.autoComplete}
        placeholder={props.placeholder}
        autoFocus={props.autoFocus}
        inputMode={props.inputMode}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
      {props.hint && <Text id={`${id}-hint`} size="xsmall" className="text-ui-fg-subtle">{props.hint}</Text>}
    </div>
  )
}

/** Checklist is a labelled group of checkboxes (roles, channels, policies). */
export function Checklist({ legend, options, selected, onChange, empty }: {
  legend: string
  options: { id: string; label: string; hint?: string }[]
  selected: string[]
  onChange: (ids: string[]) => void
  empty?: string
}) {
  const base = useId()
  return (
    <fieldset className="flex flex-col gap-1.5">
      <legend className="txt-compact-small-plus text-ui-fg-base mb-1.5">{legend}</legend>
      {options.length === 0 && <Text size="small" className="text-ui-fg-muted">{empty ?? "Nothing to choose from."}</Text>}
      <div className="flex max-h-56 flex-col gap-1 overflow-y-auto">
        {options.map((o, i) => (
          <label key={o.id} htmlFor={`${base}-${i}`} className="flex items-center gap-2 txt-compact-small">
            <input
              id={`${base}-${i}`}
              type="checkbox"
              className="h-4 w-4 accent-ui-fg-base"
              checked={selected.includes(o.id)}
              onChange={(e) => onChange(e.target.checked ? [...selected, o.id] : selected.filter((x) => x !== o.id))}
            />
            <span>{o.label}</span>
            {o.hint && <span className="text-ui-fg-muted">{o.hint}</span>}
          </label>
        ))}
      </div>
    </fieldset>
  )
}

/** useAction runs a mutation, exposing busy and the error to show. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true)
    setError(undefined)
    try {
      return await fn()
    } catch (e) {
      setError(e)
      return undefined
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, error, setError, run }
}

export function FormError({ error }: { error: unknown }) {
  if (!error) return null
  return <Alert variant="error" role="alert" data-testid="form-error">{errorMessage(error)}</Alert>
}

export function date(s: string | null | undefined): string {
  if (!s) return "—"
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString()
}

export function SearchBox({ label, value, onChange }: { label: string; value: string; onChange: (v: string) => void }) {
  const id = useId()
  return (
    <div className="w-64">
      <label htmlFor={id} className="sr-only">{label}</label>
      <Input id={id} type="search" size="small" placeholder={label} value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  )
}

export function Pager({ offset, limit, count, onChange }: { offset: number; limit: number; count: number; onChange: (o: number) => void }) {
  if (count <= limit) return null
  return (
    <div className="flex items-center justify-between px-6 py-3 txt-compact-small text-ui-fg-subtle">
      <span>{offset + 1}–{Math.min(offset + limit, count)} of {count}</span>
      <div className="flex gap-2">
        <Button size="small" variant="secondary" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>Previous</Button>
        <Button size="small" variant="secondary" disabled={offset + limit >= count} onClick={() => onChange(offset + limit)}>Next</Button>
      </div>
    </div>
  )
}

/** FormDrawer is a side panel holding one form; Escape or Cancel closes it. */
export function FormDrawer({ open, onOpenChange, title, description, submitLabel, busy, onSubmit, children }: {
  open: boolean
  onOpenChange: (o: boolean) => void
  title: string
  description?: string
  submitLabel: string
  busy?: boolean
  onSubmit: () => void
  children: ReactNode
}) {
  return (
    <Drawer open={open} onOpenChange={onOpenChange}>
      <Drawer.Content aria-describedby={undefined}>
        <form
          className="flex h-full flex-col"
          onSubmit={(e) => {
            e.preventDefault()
            onSubmit()
          }}
        >
          <Drawer.Header>
            <Drawer.Title>{title}</Drawer.Title>
            {description && <Drawer.Description className="text-ui-fg-subtle txt-compact-small">{description}</Drawer.Description>}
          </Drawer.Header>
          <Drawer.Body className="flex flex-col gap-4 overflow-y-auto">{children}</Drawer.Body>
          <Drawer.Footer>
            <Drawer.Close asChild>
              <Button type="button" variant="secondary" size="small">Cancel</Button>
            </Drawer.Close>
            <Button type="submit" size="small" isLoading={busy}>{submitLabel}</Button>
          </Drawer.Footer>
        </form>
      </Drawer.Content>
    </Drawer>
  )
}
