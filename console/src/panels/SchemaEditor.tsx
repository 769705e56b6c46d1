/** The config schema editor: one row per key (key, type, required, description, options), checked as you type; a refused removal asks before deleting stored values. */
import { useEffect, useState } from "react";
import { type ApiError, client, type ConfigType, type Integration, ok, toApiError } from "../api";
import { CONFIG_TYPES, EMPTY_ROW, hasErrors, type Row, rowErrors, toRows, toSchema } from "../lib/schema-rows";
import { ConfirmDialog, FormError } from "../ui";

export function SchemaEditor(props: { integration: Integration; canEdit: boolean; onSaved: () => Promise<void> }) {
  const [rows, setRows] = useState<Row[]>(() => toRows(props.integration.config_schema));
  const [error, setError] = useState<ApiError | null>(null);
  const [refused, setRefused] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setRows(toRows(props.integration.config_schema)), [props.integration]);
  const errs = rowErrors(rows);
  const invalid = hasErrors(errs);
  const update = (i: number, patch: Partial<Row>) => {
    setSaved(false);
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  };
  const put = async (force: boolean) => {
    await ok(client.PUT("/api/integrations/{name}/schema", { params: { path: { name: props.integration.name } }, body: { config_schema: toSchema(rows), ...(force ? { force: true } : {}) } }));
    setError(null);
    setSaved(true);
    await props.onSaved();
  };
  const serverFieldError = (i: number, f: string) => (error && error.field === `config_schema[${i}].${f}` ? error.message : null);
  return (
    <section aria-labelledby="schema-h">
      <h2 id="schema-h">Config schema</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await put(false);
          } catch (err) {
            const ae = toApiError(err);
            if (ae.code === "BIFROST_SCHEMA_CHANGE_REFUSED") setRefused(ae);
            else setError(ae);
          }
        }}
      >
        <div className="schema-rows">
          {rows.map((r, i) => (
            <fieldset className="schema-row" key={i}>
              <legend className="visually-hidden">Key {i + 1}</legend>
              <div>
                <label htmlFor={`sk-${i}`}>Key</label>
                <input id={`sk-${i}`} value={r.key} onChange={(e) => update(i, { key: e.target.value })} disabled={!props.canEdit} aria-invalid={errs[i]?.key || serverFieldError(i, "key") ? true : undefined} />
                {(errs[i]?.key || serverFieldError(i, "key")) && (
                  <p className="field-error" role="alert">
                    {errs[i]?.key ?? serverFieldError(i, "key")}
                  </p>
                )}
              </div>
              <div>
                <label htmlFor={`st-${i}`}>Type</label>
                <select id={`st-${i}`} value={r.type} onChange={(e) => update(i, { type: e.target.value as ConfigType })} disabled={!props.canEdit}>
                  {CONFIG_TYPES.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </div>
              <div className="check">
                <input id={`sr-${i}`} type="checkbox" checked={r.required} onChange={(e) => update(i, { required: e.target.checked })} disabled={!props.canEdit} />
                <label htmlFor={`sr-${i}`}>Required</label>
              </div>
              <div className="grow">
                <label htmlFor={`sd-${i}`}>Description</label>
                <input id={`sd-${i}`} value={r.description} onChange={(e) => update(i, { description: e.target.value })} disabled={!props.canEdit} />
              </div>
              <div>
                <label htmlFor={`so-${i}`}>Options</label>
                <input id={`so-${i}`} value={r.options} placeholder="a, b, c" onChange={(e) => update(i, { options: e.target.value })} disabled={!props.canEdit} aria-invalid={errs[i]?.options ? true : undefined} />
                {(errs[i]?.options || serverFieldError(i, "options")) && (
                  <p className="field-error" role="alert">
                    {errs[i]?.options ?? serverFieldError(i, "options")}
                  </p>
                )}
              </div>
              {props.canEdit && (
                <button type="button" className="danger link" aria-label={`Remove key ${r.key || i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                  Remove
                </button>
              )}
            </fieldset>
          ))}
        </div>
        {error && !/^config_schema\[\d+\]\.(key|options)$/.test(error.field ?? "") && <FormError error={error} />}
        {props.canEdit && (
          <div className="actions">
            <button type="button" onClick={() => setRows((rs) => [...rs, { ...EMPTY_ROW }])}>
              Add key
            </button>
            {saved && <span className="ok small" role="status">Schema saved</span>}
            <button type="submit" className="primary" disabled={invalid}>
              Save schema
            </button>
          </div>
        )}
      </form>
      {refused && (
        <ConfirmDialog title="Delete stored values?" confirmLabel="Save and delete values" danger onClose={() => setRefused(null)} onConfirm={() => put(true)}>
          <p>{refused.message}</p>
          <p>
            Saving this schema deletes <strong>{String(refused.details.would_delete ?? "some")}</strong> stored value{refused.details.would_delete === 1 ? "" : "s"}
            {Array.isArray(refused.details.keys) ? ` (keys: ${(refused.details.keys as unknown[]).map(String).join(", ")})` : ""}.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
