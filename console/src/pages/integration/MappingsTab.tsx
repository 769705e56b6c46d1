/**
 * The Mappings tab: one row per organization (mapped or not) from
 * `GET /api/console/integrations/:name/organizations`, searched, filtered and paged on the server
 * (≤ 100 rows on the page); inline entity edit, connection actions, overrides, remove, bulk mapping.
 * The rows are memoized and get only stable props (`paged.reload` changes with the query, the state
 * setters never), so a re-render of the tab (loading flag, filters, dialogs) re-renders no row.
 */
import { useState } from "react";
import { ApiError, client, type IntegrationOrgRow, type Mapping, ok, okAs } from "../../api";
import { type ConnState } from "../../lib/connections";
import { pageQuery } from "../../lib/paging";
import { BulkDialog } from "../../panels/BulkDialog";
import { ConfigForm } from "../../panels/ConfigForm";
import { MappingRow } from "../../panels/MappingRow";
import { Pager, useDebounced, usePaged } from "../../paged";
import { ConfirmDialog, Dialog, FormError, TableHead, useLoad } from "../../ui";
import type { IntegrationData } from "./IntegrationPage";

const STATE_CHOICES: Array<[ConnState | "", string]> = [
  ["", "any"],
  ["not_connected", "not connected"],
  ["connected", "connected"],
  ["needs_reauth", "needs re-auth"],
  ["error", "error"],
];

function mappingsQuery(q: string, state: string, unmapped: boolean, cursor: string | null): Record<string, string> {
  return pageQuery(cursor, { q: q.trim(), state, unmapped: unmapped ? "true" : "" });
}

function Overrides(props: { data: IntegrationData; org: string; onClose: () => void; onSaved: () => Promise<void> }) {
  const { integration } = props.data;
  const name = integration.name;
  const { data, error } = useLoad(async () => {
    try {
      return (await okAs<Mapping>(client.GET("/api/integrations/{name}/mappings/{org}", { params: { path: { name, org: props.org } } }))).config;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return {}; // not mapped yet: saving overrides creates the mapping
      throw e;
    }
  }, [name, props.org]);
  return (
    <Dialog title={`Overrides: ${name} for ${props.org}`} onClose={props.onClose} wide>
      <FormError error={error} />
      {data && (
        <ConfigForm
          idPrefix={`ov-${props.org}`}
          schema={integration.config_schema}
          values={data}
          defaults={integration.defaults}
          canEdit
          saveLabel="Save overrides"
          onCancel={props.onClose}
          onSave={async (patch) => {
            await ok(client.PATCH("/api/integrations/{name}/mappings/{org}/config", { params: { path: { name, org: props.org } }, body: patch }));
            await props.onSaved();
            props.onClose();
          }}
        />
      )}
    </Dialog>
  );
}

export function MappingsTab(props: { data: IntegrationData; platform: boolean; reload: () => Promise<void> }) {
  const { integration, provider } = props.data;
  const name = integration.name;
  const [q, setQ] = useState("");
  const [state, setState] = useState("");
  const [unmapped, setUnmapped] = useState(false);
  const search = useDebounced(q);
  const key = JSON.stringify([name, search, state, unmapped]);
  const paged = usePaged<IntegrationOrgRow>(key, async (cursor) => {
    const res = await ok(client.GET("/api/console/integrations/{name}/organizations", { params: { path: { name }, query: mappingsQuery(search, state, unmapped, cursor) } }));
    return { rows: res.organizations, next_cursor: res.next_cursor, total: res.total };
  });
  const [overridesFor, setOverridesFor] = useState<string | null>(null);
  const [removing, setRemoving] = useState<IntegrationOrgRow | null>(null);
  const [bulk, setBulk] = useState(false);
  const rows = paged.page?.rows ?? [];
  const flow = provider?.flow ?? null;
  const ready = paged.page !== null && !paged.loading && search === q;
  return (
    <section aria-labelledby="mappings-h">
      <div className="page-head">
        <h2 id="mappings-h">Mappings</h2>
        <button type="button" onClick={() => setBulk(true)}>
          Bulk map…
        </button>
      </div>
      <div className="inline-form">
        <div className="field">
          <label htmlFor="map-search">Search organizations</label>
          <input id="map-search" type="search" data-testid="mappings-search" placeholder="slug or name" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        {provider && (
          <div className="field">
            <label htmlFor="map-state">Connection</label>
            <select id="map-state" value={state} onChange={(e) => setState(e.target.value)}>
              {STATE_CHOICES.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field check">
          <input id="map-unmapped" type="checkbox" checked={unmapped} onChange={(e) => setUnmapped(e.target.checked)} />
          <label htmlFor="map-unmapped">Unmapped only</label>
        </div>
      </div>
      <FormError error={paged.error} />
      <div className="table-wrap">
        <table className="mappings" data-testid="mappings-table" data-ready={ready ? "true" : "false"} aria-busy={!ready}>
          <TableHead columns={["Organization", "Entity id / name", "Overrides", "Connection", "Actions"]} />
          <tbody>
            {rows.map((r) => (
              <MappingRow key={r.org} integration={name} row={r} flow={flow} onChanged={paged.reload} onOverrides={setOverridesFor} onRemove={setRemoving} />
            ))}
          </tbody>
        </table>
      </div>
      {paged.page && rows.length === 0 && <p className="muted empty">No organization matches.</p>}
      <Pager paged={paged} label="Mappings" />
      {overridesFor && <Overrides data={props.data} org={overridesFor} onClose={() => setOverridesFor(null)} onSaved={paged.reload} />}
      {removing && (
        <ConfirmDialog
          title={`Remove the mapping for ${removing.org}?`}
          confirmLabel="Remove mapping"
          danger
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await ok(client.DELETE("/api/integrations/{name}/mappings/{org}", { params: { path: { name, org: removing.org } } }));
            await paged.reload();
          }}
        >
          <p>
            This removes the mapping of <strong>{removing.org}</strong> (entity {removing.entity_id ?? "none"}) and its {removing.override_count} override
            {removing.override_count === 1 ? "" : "s"}.
          </p>
        </ConfirmDialog>
      )}
      {bulk && <BulkDialog integration={integration} onClose={() => setBulk(false)} onDone={paged.reload} />}
    </section>
  );
}
