/** One organization's row in the Mappings tab: entity id/name inline edit, override count, connection badge (→ the connection's page) and the actions that fit its state, Overrides / Remove. */
import { useEffect, useState } from "react";
import { type ApiError, client, type IntegrationOrgRow, ok, toApiError } from "../api";
import { enc } from "../lib/format";
import { connectionHref } from "../lib/routes";
import { StateBadge } from "../ui";
import { ConnectionActions } from "./ConnectionActions";

export function MappingRow(props: { integration: string; row: IntegrationOrgRow; flow: string | null; onChanged: () => Promise<void>; onOverrides: () => void; onRemove: () => void }) {
  const r = props.row;
  const [entityId, setEntityId] = useState(r.entity_id ?? "");
  const [entityName, setEntityName] = useState(r.entity_name ?? "");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setEntityId(r.entity_id ?? "");
    setEntityName(r.entity_name ?? "");
  }, [r.entity_id, r.entity_name]);
  const dirty = entityId !== (r.entity_id ?? "") || entityName !== (r.entity_name ?? "");
  const name = props.integration;
  const slug = r.org;
  const save = async () => {
    setBusy(true);
    try {
      await ok(client.PUT("/api/integrations/{name}/mappings/{org}", { params: { path: { name, org: slug } }, body: { entity_id: entityId === "" ? null : entityId, entity_name: entityName === "" ? null : entityName } }));
      setError(null);
      await props.onChanged();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-org={slug}>
      <th scope="row" data-label="Organization">
        <a href={`#/orgs/${enc(slug)}`}>{r.org_name ?? slug}</a>
        <div className="muted small">{slug}</div>
      </th>
      <td data-label="Entity">
        <form
          className="inline-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <label className="visually-hidden" htmlFor={`eid-${slug}`}>
            Entity id for {slug}
          </label>
          <input id={`eid-${slug}`} placeholder="entity id" value={entityId} onChange={(e) => setEntityId(e.target.value)} aria-invalid={error?.field === "entity_id" ? true : undefined} />
          <label className="visually-hidden" htmlFor={`ename-${slug}`}>
            Entity name for {slug}
          </label>
          <input id={`ename-${slug}`} placeholder="entity name" value={entityName} onChange={(e) => setEntityName(e.target.value)} aria-invalid={error?.field === "entity_name" ? true : undefined} />
          {(dirty || !r.mapped) && (
            <button type="submit" disabled={busy || (!r.mapped && entityId === "" && entityName === "")}>
              {r.mapped ? "Save" : "Map"}
            </button>
          )}
        </form>
        {error && (
          <p className="field-error" role="alert">
            {error.message}
          </p>
        )}
      </td>
      <td data-label="Overrides">{r.mapped ? r.override_count : <span className="muted">—</span>}</td>
      <td data-label="Connection">
        {r.state !== null ? (
          <a href={connectionHref(name, slug)} className="badge-link" title="Connection details">
            <StateBadge connection={{ state: r.state, expires_at: r.expires_at, last_error: r.last_error }} />
          </a>
        ) : (
          <span className="muted">no OAuth</span>
        )}
      </td>
      <td data-label="Actions">
        <div className="row-actions">
          {r.state !== null && <ConnectionActions target={{ integration: name, org: slug, flow: props.flow, state: r.state, last_refresh_at: r.last_refresh_at }} onChanged={props.onChanged} />}
          <button type="button" onClick={props.onOverrides} aria-label={`Edit overrides for ${slug}`}>
            Overrides
          </button>
          {r.mapped && (
            <button type="button" className="danger" onClick={props.onRemove} aria-label={`Remove mapping for ${slug}`}>
              Remove
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
