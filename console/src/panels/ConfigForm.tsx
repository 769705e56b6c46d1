import { useState } from "react";
import { isMasked, type SchemaItem } from "../api";
import { configPatch, display, type Draft, jsonErrors as jsonErrorsOf, jsonText } from "../lib/config-values";
import { FieldError, FormError, useAction } from "../ui";

/**
 * A form rendered from the config schema: text / number / checkbox / select / JSON editor, and secrets
 * as write-only fields ("set · fingerprint", Replace, Clear). Only changed keys are sent; the
 * server's error is shown under the key it names and nothing is saved when it fails.
 */
export function ConfigForm(props: {
  idPrefix: string;
  schema: SchemaItem[];
  values: Record<string, unknown>;
  /** Override mode: the integration defaults shown next to each key, with "Reset to default". */
  defaults?: Record<string, unknown>;
  canEdit: boolean;
  onSave: (patch: Record<string, unknown>) => Promise<void>;
  onCancel?: () => void;
  saveLabel?: string;
}) {
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [replacing, setReplacing] = useState<Record<string, boolean>>({});
  const { busy, error, setError, run } = useAction();
  const [saved, setSaved] = useState(false);
  const set = (k: string, v: Draft) => {
    setSaved(false);
    // The server's message for this key no longer describes what is typed.
    setError((e) => (e && (e.field === k || e.field === `defaults.${k}` || e.field === `config.${k}`) ? null : e));
    setDrafts((d) => ({ ...d, [k]: v }));
  };
  const unset = (k: string) =>
    setDrafts((d) => {
      const { [k]: _omit, ...rest } = d;
      return rest;
    });
  const jsonErrors = jsonErrorsOf(props.schema, drafts);
  const hasJsonErrors = Object.values(jsonErrors).some((e) => e !== null);
  const dirty = Object.keys(drafts).length > 0;
  const override = props.defaults !== undefined;

  const submit = async () => {
    const patch = configPatch(props.schema, drafts);
    await run("save", async () => {
      await props.onSave(patch);
      setDrafts({});
      setReplacing({});
      setSaved(true);
    });
  };

  if (props.schema.length === 0) return <p className="muted">The config schema has no keys yet.</p>;
  return (
    <form
      className="config-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {props.schema.map((item) => {
        const id = `${props.idPrefix}-${item.key}`;
        const current = props.values[item.key];
        const has = current !== undefined && current !== null;
        const draft = drafts[item.key];
        const disabled = !props.canEdit;
        const errId = `${id}-error`;
        let control;
        if (item.type === "secret") {
          const showInput = replacing[item.key] || (!has && draft !== null);
          control = (
            <div className="secret">
              {has && !replacing[item.key] && draft !== null && <span className="secret-state">set · {isMasked(current) ? current.fingerprint : "…"}</span>}
              {draft === null && has && <span className="secret-state warn">will be cleared</span>}
              {showInput && (
                <input
                  id={id}
                  type="password"
                  autoComplete="new-password"
                  placeholder={has ? "new secret value" : "not set"}
                  value={typeof draft === "string" ? draft : ""}
                  onChange={(e) => set(item.key, e.target.value)}
                  disabled={disabled}
                  aria-describedby={errId}
                />
              )}
              {props.canEdit && has && !replacing[item.key] && draft !== null && (
                <>
                  <button type="button" onClick={() => setReplacing((r) => ({ ...r, [item.key]: true }))} aria-label={`Replace ${item.key}`}>
                    Replace
                  </button>
                  <button type="button" onClick={() => set(item.key, null)} aria-label={`Clear ${item.key}`}>
                    Clear
                  </button>
                </>
              )}
              {(replacing[item.key] || draft === null) && has && (
                <button
                  type="button"
                  onClick={() => {
                    unset(item.key);
                    setReplacing((r) => ({ ...r, [item.key]: false }));
                  }}
                >
                  Keep current
                </button>
              )}
            </div>
          );
        } else if (item.type === "bool") {
          const checked = typeof draft === "boolean" ? draft : current === true;
          control = <input id={id} type="checkbox" checked={checked} onChange={(e) => set(item.key, e.target.checked)} disabled={disabled} aria-describedby={errId} />;
        } else if (item.type === "json") {
          const text = typeof draft === "string" ? draft : jsonText(current);
          control = (
            <>
              <textarea id={id} rows={4} spellCheck={false} value={text} onChange={(e) => set(item.key, e.target.value)} disabled={disabled} aria-invalid={jsonErrors[item.key] ? true : undefined} aria-describedby={errId} />
              {jsonErrors[item.key] && (
                <p className="field-error" role="alert">
                  {jsonErrors[item.key]}
                </p>
              )}
            </>
          );
        } else if (item.options && item.options.length > 0) {
          const v = typeof draft === "string" ? draft : has ? String(current) : "";
          control = (
            <select id={id} value={v} onChange={(e) => set(item.key, e.target.value === "" ? null : e.target.value)} disabled={disabled} aria-describedby={errId}>
              <option value="">(not set)</option>
              {item.options.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          );
        } else {
          const v = typeof draft === "string" ? draft : draft === null ? "" : has ? String(current) : "";
          control = <input id={id} type={item.type === "int" ? "number" : "text"} step={item.type === "int" ? 1 : undefined} value={v} onChange={(e) => set(item.key, e.target.value)} disabled={disabled} aria-describedby={errId} />;
        }
        return (
          <div className="field" key={item.key}>
            <label htmlFor={id}>
              <code>{item.key}</code> <span className="muted small">{item.type}{item.required ? " · required" : ""}</span>
            </label>
            {item.description && <p className="help">{item.description}</p>}
            {override && (
              <p className="help">
                Default: <span className="mono">{display(props.defaults?.[item.key]) || "(none)"}</span>
                {" · "}Org value: <span className="mono">{has ? display(current) : "(uses default)"}</span>
              </p>
            )}
            {control}
            {override && props.canEdit && has && draft !== null && (
              <button type="button" className="link" onClick={() => set(item.key, null)} aria-label={`Reset ${item.key} to default`}>
                Reset to default
              </button>
            )}
            {override && draft === null && has && <span className="muted small"> will reset to default</span>}
            <FieldError error={error} fields={[item.key, `defaults.${item.key}`, `config.${item.key}`]} id={errId} />
          </div>
        );
      })}
      <FormError error={error} fields={props.schema.flatMap((i) => [i.key, `defaults.${i.key}`, `config.${i.key}`])} />
      {props.canEdit && (
        <div className="actions">
          {saved && !dirty && <span className="ok small" role="status">Saved</span>}
          {props.onCancel && (
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          )}
          <button type="submit" className="primary" disabled={!dirty || busy !== null || hasJsonErrors}>
            {props.saveLabel ?? "Save"}
          </button>
        </div>
      )}
    </form>
  );
}
