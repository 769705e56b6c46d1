/**
 * Connections: every OAuth connection row (`GET /api/connections`), searched, filtered and sorted on
 * the server, one page of ≤ 100 rows at a time; rows selected across pages get bulk actions (refresh,
 * copy connect links, disconnect) with a result per row.
 */
import { useEffect, useState } from "react";
import { allPages, client, type ConnectionRow, type Integration, ok, toApiError } from "../api";
import {
  ariaSort,
  type BulkResult,
  bulkSummary,
  bulkTargets,
  type ConnectionFilter,
  type ConnState,
  connectionsHref,
  connectionsQuery,
  filterFromQuery,
  filterParams,
  linkBlock,
  mapLimited,
  rowKey,
  type SortColumn,
  toggleSort,
} from "../lib/connections";
import { relTime, when } from "../lib/format";
import { PAGE_SIZE } from "../lib/paging";
import { replaceHash } from "../hash";
import { connectionHref } from "../lib/routes";
import { createConnectLink, disconnectConnection, refreshConnection } from "../panels/ConnectionActions";
import { Pager, useDebounced, usePaged } from "../paged";
import { ConfirmDialog, CopyButton, FormError, StateBadge, useLoad } from "../ui";

const STATE_FILTERS: Array<[ConnState, string]> = [
  ["needs_reauth", "Needs re-auth"],
  ["error", "Error"],
  ["connected", "Connected"],
  ["not_connected", "Not connected"],
];

/** Bulk calls in flight at once (each is one refresh or link at the provider / in the store). */
const BULK_WIDTH = 4;

interface BulkOutcome {
  title: string;
  summary: string;
  results: Array<BulkResult & { org: string }>;
  links: string | null;
}

function SortHeader(props: { filter: ConnectionFilter; column: SortColumn; label: string; onSort: (c: SortColumn) => void }) {
  const dir = ariaSort(props.filter, props.column);
  return (
    <th scope="col" aria-sort={dir}>
      <button type="button" className="sort" onClick={() => props.onSort(props.column)}>
        {props.label}
        <span aria-hidden="true">{dir === "ascending" ? " ▲" : dir === "descending" ? " ▼" : ""}</span>
      </button>
    </th>
  );
}

export function ConnectionsPage(props: { query: URLSearchParams }) {
  const [filter, setFilter] = useState<ConnectionFilter>(() => filterFromQuery(props.query));
  const q = useDebounced(filter.q);
  const applied = { ...filter, q };
  const key = JSON.stringify(filterParams(applied));
  const paged = usePaged<ConnectionRow>(key, async (cursor) => {
    const res = await ok(client.GET("/api/connections", { params: { query: connectionsQuery(applied, cursor, PAGE_SIZE) } }));
    return { rows: res.connections, next_cursor: res.next_cursor, total: res.total };
  });
  // The names for the integration filter (the plain list: no per-organization counting).
  const integrations = useLoad(async () => ({ integrations: await allPages<Integration>("integrations", (query) => client.GET("/api/integrations", { params: { query } })) }), []);
  const [selected, setSelected] = useState<Map<string, ConnectionRow>>(new Map());
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<BulkOutcome | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);

  // The filters live in the hash query (shareable, kept on reload) without a navigation.
  useEffect(() => {
    replaceHash(connectionsHref(applied));
    setSelected(new Map());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  // A navigation to other filters (a link, the nav entry) replaces the form's.
  const routedKey = JSON.stringify(filterParams(filterFromQuery(props.query)));
  useEffect(() => {
    if (routedKey !== key) setFilter(filterFromQuery(props.query));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [routedKey]);

  const rows = paged.page?.rows ?? [];
  // Ready: the rows of the filters in the hash are on screen (no request, typed search or navigation pending).
  const ready = paged.page !== null && !paged.loading && q === filter.q && routedKey === key;
  const set = (patch: Partial<ConnectionFilter>) => setFilter((f) => ({ ...f, ...patch }));
  const toggleState = (s: ConnState, on: boolean) => set({ states: on ? [...filter.states, s] : filter.states.filter((x) => x !== s) });
  const pick = (r: ConnectionRow, on: boolean) =>
    setSelected((m) => {
      const n = new Map(m);
      if (on) n.set(rowKey(r), r);
      else n.delete(rowKey(r));
      return n;
    });
  const allOnPage = rows.length > 0 && rows.every((r) => selected.has(rowKey(r)));
  const chosen = [...selected.values()];
  const toRefresh = bulkTargets(chosen, "refresh");
  const toLink = bulkTargets(chosen, "link");
  const toRemove = bulkTargets(chosen, "disconnect");

  const runBulk = async (name: string, title: string, targets: ConnectionRow[], call: (r: ConnectionRow) => Promise<string>, verb: string) => {
    setBusy(name);
    setOutcome(null);
    const results = await mapLimited(targets, BULK_WIDTH, async (r) => {
      const base = { key: rowKey(r), org: r.org ?? "(integration)" };
      try {
        return { ...base, ok: true, text: await call(r) };
      } catch (e) {
        return { ...base, ok: false, text: toApiError(e).message };
      }
    });
    setOutcome({ title, summary: bulkSummary(results, verb), results, links: name === "link" ? linkBlock(results) : null });
    setBusy(null);
    await paged.reload();
  };

  return (
    <section>
      <h1>Connections</h1>
      <p className="muted">Every OAuth connection: one row per organization of each integration with a provider, and the integration-level connection.</p>
      <div className="inline-form filters">
        <div className="field">
          <label htmlFor="conn-search">Search</label>
          <input id="conn-search" type="search" data-testid="connections-search" placeholder="organization, integration or entity" value={filter.q} onChange={(e) => set({ q: e.target.value })} />
        </div>
        <fieldset className="field states">
          <legend>State</legend>
          {STATE_FILTERS.map(([s, label]) => (
            <label key={s} className="check">
              <input type="checkbox" checked={filter.states.includes(s)} onChange={(e) => toggleState(s, e.target.checked)} /> {label}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="conn-expiring">Expiring within (days)</label>
          <input id="conn-expiring" type="number" min={0} max={3650} value={filter.expiringDays} onChange={(e) => set({ expiringDays: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="conn-integration">Integration</label>
          <select id="conn-integration" value={filter.integration} onChange={(e) => set({ integration: e.target.value })}>
            <option value="">all</option>
            {(integrations.data?.integrations ?? []).map((i) => (
              <option key={i.name}>{i.name}</option>
            ))}
            {filter.integration && !integrations.data?.integrations.some((i) => i.name === filter.integration) && <option>{filter.integration}</option>}
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={filter.unmapped} onChange={(e) => set({ unmapped: e.target.checked })} /> Unmapped only
        </label>
      </div>
      <div className="bulk-bar" role="group" aria-label="Bulk actions">
        <span data-testid="selected-count">{selected.size} selected</span>
        <button type="button" disabled={busy !== null || toRefresh.length === 0} onClick={() => void runBulk("refresh", "Refresh", toRefresh, async (r) => (await refreshConnection(r.integration, r.org), "refreshed"), "refreshed")}>
          {busy === "refresh" ? "Refreshing…" : `Refresh (${toRefresh.length})`}
        </button>
        <button
          type="button"
          disabled={busy !== null || toLink.length === 0}
          onClick={() => void runBulk("link", "Connect links", toLink, async (r) => (await createConnectLink(r.integration, r.org as string)).url, "links created")}
        >
          {busy === "link" ? "Creating…" : `Copy connect links (${toLink.length})`}
        </button>
        <button type="button" className="danger" disabled={busy !== null || toRemove.length === 0} onClick={() => setConfirmRemove(true)}>
          {`Disconnect (${toRemove.length})`}
        </button>
        {selected.size > 0 && (
          <button type="button" className="link" onClick={() => setSelected(new Map())}>
            Clear selection
          </button>
        )}
      </div>
      {outcome && (
        <div className="bulk-result" role="status" data-testid="bulk-result">
          <p>
            <strong>{outcome.title}:</strong> {outcome.summary}
          </p>
          <ul className="small">
            {outcome.results.map((r) => (
              <li key={r.key} data-key={r.key} className={r.ok ? "ok" : "warn"}>
                <code>{r.key}</code>: {r.ok ? (outcome.links !== null ? "link created" : r.text) : r.text}
              </li>
            ))}
          </ul>
          {outcome.links !== null && outcome.links !== "" && (
            <>
              <label htmlFor="bulk-links">Connect links (organization → URL; each works once)</label>
              <textarea id="bulk-links" data-testid="bulk-links" readOnly rows={Math.min(10, outcome.links.split("\n").length + 1)} value={outcome.links} onFocus={(e) => e.currentTarget.select()} />
              <CopyButton text={outcome.links} label="Copy the connect links" />
            </>
          )}
        </div>
      )}
      <FormError error={paged.error} />
      <div className="table-wrap">
        <table data-testid="connections-table" data-ready={ready ? "true" : "false"} aria-busy={!ready} aria-label="Connections">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select every row on this page"
                  checked={allOnPage}
                  onChange={(e) => {
                    const on = e.target.checked;
                    setSelected((m) => {
                      const n = new Map(m);
                      for (const r of rows) {
                        if (on) n.set(rowKey(r), r);
                        else n.delete(rowKey(r));
                      }
                      return n;
                    });
                  }}
                />
              </th>
              <SortHeader filter={filter} column="integration" label="Integration" onSort={(c) => setFilter((f) => toggleSort(f, c))} />
              <SortHeader filter={filter} column="org" label="Organization" onSort={(c) => setFilter((f) => toggleSort(f, c))} />
              <th scope="col">Entity</th>
              <SortHeader filter={filter} column="state" label="State" onSort={(c) => setFilter((f) => toggleSort(f, c))} />
              <SortHeader filter={filter} column="expires_at" label="Expires" onSort={(c) => setFilter((f) => toggleSort(f, c))} />
              <SortHeader filter={filter} column="last_refresh_at" label="Last refresh" onSort={(c) => setFilter((f) => toggleSort(f, c))} />
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const k = rowKey(r);
              return (
                <tr key={k} data-key={k} data-state={r.state}>
                  <td>
                    <input type="checkbox" aria-label={`Select ${k}`} checked={selected.has(k)} onChange={(e) => pick(r, e.target.checked)} />
                  </td>
                  <td data-label="Integration">{r.integration}</td>
                  <th scope="row" data-label="Organization">
                    <a href={connectionHref(r.integration, r.org)}>{r.org === null ? "(integration level)" : (r.org_name ?? r.org)}</a>
                    {r.org !== null && <div className="muted small">{r.org}</div>}
                  </th>
                  <td data-label="Entity">
                    {r.mapped ? `${r.entity_id ?? "—"}${r.entity_name ? ` · ${r.entity_name}` : ""}` : <span className="muted">{r.org === null ? "—" : "not mapped"}</span>}
                  </td>
                  <td data-label="State">
                    <StateBadge connection={r} />
                  </td>
                  <td data-label="Expires" title={when(r.expires_at)}>
                    {relTime(r.expires_at)}
                  </td>
                  <td data-label="Last refresh" title={when(r.last_refresh_at)}>
                    {relTime(r.last_refresh_at)}
                  </td>
                  <td data-label="Last error" className="small">
                    {r.last_error ?? <span className="muted">—</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {paged.page && rows.length === 0 && <p className="muted empty">No connection matches.</p>}
      <Pager paged={paged} label="Connections" />
      {confirmRemove && (
        <ConfirmDialog
          title={`Disconnect ${toRemove.length} connection${toRemove.length === 1 ? "" : "s"}?`}
          confirmLabel={`Disconnect ${toRemove.length}`}
          danger
          onClose={() => setConfirmRemove(false)}
          onConfirm={async () => {
            setConfirmRemove(false);
            await runBulk("disconnect", "Disconnect", toRemove, async (r) => (await disconnectConnection(r.integration, r.org), "disconnected"), "disconnected");
            setSelected(new Map());
          }}
        >
          <p>
            This deletes the stored tokens of <strong>{toRemove.length}</strong> connection{toRemove.length === 1 ? "" : "s"} (revoked at the provider where it offers revocation). Each organization has to connect again.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
