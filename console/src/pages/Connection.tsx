/**
 * One OAuth connection (`#/connections/INTEGRATION/ORG`, `-` = integration level): state, token
 * metadata (never the token), the actions that fit, refresh history (the audit trail's
 * oauth.connect / oauth.refresh / oauth.disconnect entries) and the connection's recent events.
 */
import { type AuditEntry, client, type EventRow, ok, okAs } from "../api";
import { actorLabel } from "../lib/audit";
import { detailText, eventTone, relTime, when } from "../lib/format";
import { connectionsHref } from "../lib/connections";
import { integrationHref } from "../lib/routes";
import { fetchConnection } from "../api/connections";
import { ConnectionActions } from "../panels/ConnectionActions";
import { FormError, StateBadge, TableHead, useLoad } from "../ui";

const HISTORY = 20;
const CONNECTION_ACTIONS = ["oauth.connect", "oauth.refresh", "oauth.disconnect"];

/** The connection's own entries: its org's, or (integration level) those naming no org. */
const ownedBy = (org: string | null) => (x: { org: string | null }) => x.org === org;

/** The newest connect / refresh / disconnect entries of the audit trail (one request per action, merged newest first). */
async function loadHistory(integration: string, org: string | null): Promise<AuditEntry[]> {
  const pages = await Promise.all(
    CONNECTION_ACTIONS.map((action) => ok(client.GET("/api/audit", { params: { query: { integration, action, ...(org ? { org } : {}), limit: String(HISTORY) } } }))),
  );
  return pages
    .flatMap((p) => p.entries)
    .filter((e) => ownedBy(org)({ org: e.target.org }))
    .sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : 0))
    .slice(0, HISTORY);
}

/** Recent: the last 30 days. */
const RECENT_MS = 30 * 86_400_000;

/** The connection's newest events of the last 30 days (the route answers oldest first: up to 500 read, the newest 20 shown first). */
async function loadEvents(integration: string, org: string | null): Promise<EventRow[]> {
  const after = new Date(Date.now() - RECENT_MS).toISOString();
  const res = await okAs<{ events: EventRow[] }>(client.GET("/api/events", { params: { query: { integration, ...(org ? { org } : {}), after, limit: "500" } } }));
  return res.events
    .filter(ownedBy(org))
    .sort((x, y) => (x.created_at < y.created_at ? 1 : x.created_at > y.created_at ? -1 : 0))
    .slice(0, HISTORY);
}

export function ConnectionPage(props: { integration: string; org: string | null }) {
  const { integration, org } = props;
  const conn = useLoad(() => fetchConnection(integration, org), [integration, org]);
  const history = useLoad(() => loadHistory(integration, org), [integration, org]);
  const events = useLoad(() => loadEvents(integration, org), [integration, org]);
  const c = conn.data;
  const reloadAll = async () => {
    await Promise.all([conn.reload(), history.reload(), events.reload()]);
  };
  const title = org === null ? `${integration} (integration level)` : `${integration} · ${c?.org_name ?? org}`;
  return (
    <article>
      <p className="crumbs">
        <a href="#/connections">Connections</a> / <a href={integrationHref(integration)}>{integration}</a> /
      </p>
      <h1>{title}</h1>
      <FormError error={conn.error} />
      {conn.data === null && !conn.loading && !conn.error && <p className="form-error">No such connection: the integration has no OAuth provider, or the organization does not exist.</p>}
      {c && (
        <section aria-labelledby="conn-state-h" data-testid="connection-detail" data-ready="true">
          <h2 id="conn-state-h">
            State <StateBadge connection={c} />
          </h2>
          <dl className="facts">
            <dt>Flow</dt>
            <dd>{c.flow}</dd>
            {org !== null && (
              <>
                <dt>Entity</dt>
                <dd>
                  {c.mapped ? `${c.entity_id ?? "—"}${c.entity_name ? ` · ${c.entity_name}` : ""}` : <a href={connectionsHref({ integration, unmapped: true })}>not mapped</a>}
                </dd>
              </>
            )}
            <dt>Expires</dt>
            <dd>
              {relTime(c.expires_at)} <span className="muted small">{c.expires_at ? when(c.expires_at) : ""}</span>
            </dd>
            <dt>Refresh token</dt>
            <dd>{c.has_refresh_token ? "stored" : <span className="muted">none</span>}</dd>
            <dt>Last refresh</dt>
            <dd>
              {relTime(c.last_refresh_at)} <span className="muted small">{c.last_refresh_at ? when(c.last_refresh_at) : ""}</span>
            </dd>
            <dt>Last error</dt>
            <dd>{c.last_error ?? <span className="muted">—</span>}</dd>
          </dl>
          <ConnectionActions target={c} onChanged={reloadAll} />
        </section>
      )}
      <section aria-labelledby="conn-history-h">
        <h2 id="conn-history-h">Refresh history</h2>
        <FormError error={history.error} />
        <div className="table-wrap">
          <table aria-label="Refresh history">
            <TableHead columns={["When", "Action", "By", "Details"]} />
            <tbody>
              {(history.data ?? []).map((e) => (
                <tr key={e.id}>
                  <td data-label="When">{when(e.at)}</td>
                  <td data-label="Action">{e.action}</td>
                  <td data-label="By">{actorLabel(e.actor)}</td>
                  <td data-label="Details" className="mono small">
                    {detailText(e.detail)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {history.data && history.data.length === 0 && <p className="muted">No connect, refresh or disconnect recorded yet.</p>}
      </section>
      <section aria-labelledby="conn-events-h">
        <h2 id="conn-events-h">Recent events (30 days)</h2>
        <FormError error={events.error} />
        <div className="table-wrap">
          <table aria-label="Recent events">
            <TableHead columns={["When", "Type", "Details"]} />
            <tbody>
              {(events.data ?? []).map((ev) => (
                <tr key={ev.id}>
                  <td data-label="When">{when(ev.created_at)}</td>
                  <td data-label="Type">
                    <span className={`badge ${eventTone(ev.type)}`}>{ev.type}</span>
                  </td>
                  <td data-label="Details" className="mono small">
                    {detailText(ev.payload)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {events.data && events.data.length === 0 && <p className="muted">No events in the last 30 days.</p>}
        <p className="small">
          <a href={`#/events?integration=${encodeURIComponent(integration)}${org ? `&org=${encodeURIComponent(org)}` : ""}`}>All events of this connection</a>
        </p>
      </section>
    </article>
  );
}
