/** Bulk mapping dialog: paste `org,entity_id,entity_name` rows, saved in one transaction; suggestions for unlisted orgs and for pasted entities. */
import { useState } from "react";
import { allPages, type ApiError, client, type Integration, ok, type Org, toApiError } from "../api";
import { appendLines, parseBulk } from "../lib/bulk";
import { Dialog, FormError, useLoad } from "../ui";
import { EntitySuggestions } from "./EntitySuggestions";

/**
 * Every organization, 500 per request: the suggestions match pasted names against all of them by
 * similarity (a substring `q` on the server would miss "Globex Intl" → Globex). Only the rendering is
 * capped: at most 20 "not listed yet" buttons and 100 suggestion rows per page.
 */
const loadAllOrgs = () => allPages<Org>("organizations", (query) => client.GET("/api/organizations", { params: { query } }));

export function BulkDialog(props: { integration: Integration; onClose: () => void; onDone: () => Promise<void> }) {
  const loaded = useLoad(loadAllOrgs, []);
  const orgs = loaded.data ?? [];
  const [text, setText] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const rows = parseBulk(text);
  const known = new Set(orgs.map((o) => o.slug));
  const listed = new Set(rows.map((r) => r.org));
  const unknown = loaded.data ? rows.filter((r) => !known.has(r.org)) : [];
  const suggestions = orgs.filter((o) => !listed.has(o.slug));
  const rowIndex = typeof error?.details.row === "number" ? error.details.row : null;
  return (
    <Dialog title={`Map organizations to ${props.integration.name}`} onClose={props.onClose} wide>
      <FormError error={loaded.error} />
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
        <EntitySuggestions orgs={orgs} onAdd={(lines) => setText((t) => appendLines(t, lines))} />
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
