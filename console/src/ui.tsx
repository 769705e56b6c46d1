import { type Dispatch, type ReactNode, type SetStateAction, useCallback, useEffect, useId, useRef, useState } from "react";
import { type ApiError, type Connection, errorMatches, toApiError } from "./api";
import { connectionBadge } from "./lib/format";

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

export interface Action {
  /** The action running (the name `run` was given), null when none is. */
  busy: string | null;
  /** The last action's failure; cleared when one succeeds. */
  error: ApiError | null;
  setError: Dispatch<SetStateAction<ApiError | null>>;
  /** Run `fn` as action `name`; false when it failed (its error is in `error`). */
  run: (name: string, fn: () => Promise<unknown>) => Promise<boolean>;
}

/** What a button that calls the API needs: which action is running, and the error of the last one. */
export function useAction(): Action {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (name: string, fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(name);
    try {
      await fn();
      setError(null);
      return true;
    } catch (e) {
      setError(toApiError(e));
      return false;
    } finally {
      setBusy(null);
    }
  };
  return { busy, error, setError, run };
}

export function ConfirmDialog(props: { title: string; children: ReactNode; confirmLabel: string; danger?: boolean; onConfirm: () => Promise<void>; onClose: () => void }) {
  const { busy, error, run } = useAction();
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
          disabled={busy !== null}
          onClick={() =>
            void run("confirm", async () => {
              await props.onConfirm();
              props.onClose();
            })
          }
        >
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
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
/** Plain-text column heads; `actions` adds a last column for row buttons, labelled for screen readers only. */
export function TableHead(props: { columns: string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
        {props.actions && (
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        )}
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

/** Connection state badge (see connectionBadge). */
export function StateBadge(props: { connection: Pick<Connection, "state" | "expires_at" | "last_error"> | null | undefined }) {
  const b = connectionBadge(props.connection);
  return (
    <span className={`badge ${b.tone}`} title={b.title}>
      {b.text}
    </span>
  );
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
