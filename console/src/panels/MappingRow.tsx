/**
 * One organization's row in the Mappings tab: entity id/name inline edit, override count, connection badge (→ the connection's page) and the actions that fit its state, Overrides / Remove.
 * A page renders 100 of these: the row is memoized (the tab passes stable callbacks), runs no effect, and keeps its DOM small (labels as `aria-label`).
 */
import { memo, useState } from "react";
import { client, type IntegrationOrgRow, ok } from "../api";
import { enc } from "../lib/format";
import { connectionHref } from "../lib/routes";
import { StateBadge, useAction } from "../ui";
import { ConnectionActions } from "./ConnectionActions";

/** Unsaved entity fields, with the saved values they were typed over (a draft over values that changed since, e.g. by bulk mapping, is dropped). */
interface Draft {
  base: string;
  id: string;
  name: string;
}

export const MappingRow = memo(function MappingRow(props: {
  integration: string;
  row: IntegrationOrgRow;
  flow: string | null;
  onChanged: () => Promise<void>;
  onOverrides: (org: string) => void;
  onRemove: (row: IntegrationOrgRow) => void;
}) {
  const r = props.row;
  const savedId = r.entity_id ?? "";
  const savedName = r.entity_name ?? "";
  const base = `${savedId}\n${savedName}`;
  const [draft, setDraft] = useState<Draft | null>(null);
  const { busy, error, run } = useAction();
  const current = draft !== null && draft.base === base ? draft : null;
  const entityId = current ? current.id : savedId;
  const entityName = current ? current.name : savedName;
  const dirty = entityId !== savedId || entityName !== savedName;
  const name = props.integration;
  const slug = r.org;
  const edit = (id: string, nm: string) => setDraft({ base, id, name: nm });
  const save = () =>
    run("save", async () => {
      await ok(client.PUT("/api/integrations/{name}/mappings/{org}", { params: { path: { name, org: slug } }, body: { entity_id: entityId === "" ? null : entityId, entity_name: entityName === "" ? null : entityName } }));
      await props.onChanged();
    });
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
          <input
            aria-label={`Entity id for ${slug}`}
            placeholder="entity id"
            value={entityId}
            onChange={(e) => edit(e.target.value, entityName)}
            aria-invalid={error?.field === "entity_id" ? true : undefined}
          />
          <input
            aria-label={`Entity name for ${slug}`}
            placeholder="entity name"
            value={entityName}
            onChange={(e) => edit(entityId, e.target.value)}
            aria-invalid={error?.field === "entity_name" ? true : undefined}
          />
          {(dirty || !r.mapped) && (
            <button type="submit" disabled={busy !== null || (!r.mapped && entityId === "" && entityName === "")}>
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
          {r.state !== null && <ConnectionActions target={{ integration: name, org: slug, flow: props.flow, state: r.state, last_refresh_at: r.last_refresh_at }} onChanged={props.onChanged} inline />}
          <button type="button" onClick={() => props.onOverrides(slug)} aria-label={`Edit overrides for ${slug}`}>
            Overrides
          </button>
          {r.mapped && (
            <button type="button" className="danger" onClick={() => props.onRemove(r)} aria-label={`Remove mapping for ${slug}`}>
              Remove
            </button>
          )}
        </div>
      </td>
    </tr>
  );
});
