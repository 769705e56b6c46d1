/** Bulk mapping dialog: paste `org,entity_id,entity_name` rows, saved in one transaction; suggestions for unlisted orgs and for pasted entities. */
import { useState } from "react";
import { type ApiError, client, type Integration, ok, type Org, toApiError } from "../api";
import { appendLines, parseBulk } from "../lib/bulk";
import { Dialog } from "../ui";
import { EntitySuggestions } from "./EntitySuggestions";

export function BulkDialog(props: { integration: Integration; orgs: Org[]; onClose: () => void; onDone: () => Promise<void> }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const rows = parseBulk(text);
  const unknown = rows.filter((r) => !props.orgs.some((o) => o.slug === r.org));
  const suggestions = props.orgs.filter((o) => !rows.some((r) => r.org === o.slug));
  const rowIndex = typeof error?.details.row === "number" ? error.details.row : null;
  return (
    <Dialog title={`Map organizations to ${props.integration.name}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await ok(client.POST("/api/integrations/{name}/mappings/bulk", { params: { path: { name: props.integration.name } }, body: { rows: rows.map(({ line: _l, ...r }) => r) } }));
            await props.onDone();
            props.onClose();
          } catch (err) {
            setError(toApiError(err));
          }
        }}
      >
        <label htmlFor="bulk-text">
          One row per line: <code>org,entity_id,entity_name</code>
        </label>
        <textarea id="bulk-text" rows={8} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} placeholder={"acme,customer-123,Acme Corp\nglobex,customer-456,Globex"} />
        <p className="help">
          {rows.length} row{rows.length === 1 ? "" : "s"}
          {unknown.length > 0 && <span className="warn"> · unknown organization{unknown.length === 1 ? "" : "s"}: {unknown.map((r) => `${r.org} (line ${r.line})`).join(", ")}</span>}
        </p>
        <EntitySuggestions orgs={props.orgs} onAdd={(lines) => setText((t) => appendLines(t, lines))} />
        {suggestions.length > 0 && (
          <p className="help">
            Not listed yet:{" "}
            {suggestions.slice(0, 20).map((o) => (
              <button key={o.slug} type="button" className="link" onClick={() => setText((t) => appendLines(t, [`${o.slug},,${o.name}`]))}>
                + {o.slug}
              </button>
            ))}
          </p>
        )}
        {error && (
          <p className="field-error" role="alert">
            {rowIndex !== null && rows[rowIndex] ? `Line ${rows[rowIndex]?.line}: ` : ""}
            {error.message}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={rows.length === 0}>
            Save {rows.length} mapping{rows.length === 1 ? "" : "s"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
