import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from "react";
import { ApiError, type Connection } from "./api";

/** A modal dialog (native <dialog>: focus is trapped, Esc closes, focus returns to the opener). */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    opener.current = document.activeElement;
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const first = d?.querySelector<HTMLElement>("[autofocus], input, select, textarea, button:not(.dialog-close)");
    first?.focus();
    return () => {
      if (opener.current instanceof HTMLElement) opener.current.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.wide ? "dialog wide" : "dialog"}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="dialog-close link" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}

export function ConfirmDialog(props: { title: string; children: ReactNode; confirmLabel: string; danger?: boolean; onConfirm: () => Promise<void>; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div className="dialog-body">{props.children}</div>
      <FormError error={error} />
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className={props.danger ? "danger" : "primary"}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await props.onConfirm();
              props.onClose();
            } catch (e) {
              setError(toApiError(e));
            } finally {
              setBusy(false);
            }
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

export function toApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CLIENT", e instanceof Error ? e.message : String(e));
}

/** Does this server error belong to the field named by one of `fields` (exact, or a sub-path of it)? */
export function errorMatches(err: ApiError | null, ...fields: string[]): boolean {
  const f = err?.field;
  if (!f) return false;
  return fields.some((x) => f === x || f.startsWith(x + ".") || f.startsWith(x + "["));
}

/** The server's message under a field, when the error names that field. */
export function FieldError(props: { error: ApiError | null; fields: string[]; id?: string }) {
  if (!props.error || !errorMatches(props.error, ...props.fields)) return null;
  return (
    <p className="field-error" role="alert" id={props.id}>
      {props.error.message}
    </p>
  );
}

/** A table head of plain column titles. */
export function TableHead(props: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A labelled text input with the server's error for `errorFields` shown under it. */
export function TextField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  required?: boolean;
  error?: ApiError | null;
  errorFields?: string[];
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} required={props.required} />
      {props.errorFields && <FieldError error={props.error ?? null} fields={props.errorFields} />}
    </div>
  );
}

/** The server's message for the form, unless a field shows it. */
export function FormError(props: { error: ApiError | null; fields?: string[] }) {
  if (!props.error) return null;
  if (props.fields && errorMatches(props.error, ...props.fields)) return null;
  return (
    <p className="form-error" role="alert">
      {props.error.message}
    </p>
  );
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: ApiError | null; reload: () => Promise<void>; loading: boolean } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await load());
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload, loading };
}

export function relTime(iso: string | null, now = Date.now()): string {
  if (!iso) return "—";
  const s = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(s);
  const unit = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)} min` : abs < 86400 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} d`;
  return s >= 0 ? `in ${unit}` : `${unit} ago`;
}

export function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** Connection state badge: connected / expires in … / needs re-auth / error with message / not connected. */
export function StateBadge(props: { connection: Connection | null | undefined }) {
  const c = props.connection;
  if (!c || c.state === "not_connected") return <span className="badge muted">not connected</span>;
  if (c.state === "needs_reauth") return <span className="badge warn">needs re-auth</span>;
  if (c.state === "error")
    return (
      <span className="badge bad" title={c.last_error ?? undefined}>
        error{c.last_error ? `: ${c.last_error}` : ""}
      </span>
    );
  if (c.state === "refreshing") return <span className="badge info">refreshing…</span>;
  const soon = c.expires_at !== null && Date.parse(c.expires_at) - Date.now() < 15 * 60_000;
  if (soon) return <span className="badge info">expires {relTime(c.expires_at)}</span>;
  return <span className="badge ok">connected</span>;
}

export function CopyButton(props: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      aria-label={props.label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.text);
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        } catch {
          setDone(false);
        }
      }}
    >
      {done ? "Copied" : "Copy"}
    </button>
  );
}
