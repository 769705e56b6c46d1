/** Integrations: server-side search, one page of ≤ 100 at a time, overview per integration (keys, OAuth flow, mapped / connected / re-auth orgs), create, delete. */
import { useState } from "react";
import { client, type IntegrationOverview as Overview, ok, okAs, type SessionInfo } from "../api";
import { enc } from "../lib/format";
import { pageQuery } from "../lib/paging";
import { integrationHref } from "../lib/routes";
import { Pager, useDebounced, usePaged } from "../paged";
import { CreateIntegration } from "../panels/CreateIntegration";
import { ConfirmDialog, FormError, TableHead } from "../ui";

export function IntegrationsPage(props: { session: SessionInfo }) {
  const platform = props.session.role === "platform_admin";
  const [q, setQ] = useState("");
  const search = useDebounced(q);
  const paged = usePaged(search, async (cursor) => {
    const query = pageQuery(cursor, { q: search.trim() });
    const res = await okAs<{ integrations: Overview[]; next_cursor: string | null }>(client.GET("/api/console/integrations", { params: { query } }));
    return { rows: res.integrations, next_cursor: res.next_cursor, total: null };
  });
  const list = paged.page?.rows ?? [];
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Overview | null>(null);
  return (
    <section>
      <div className="page-head">
        <h1>Integrations</h1>
        {platform && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New integration
          </button>
        )}
      </div>
      <label htmlFor="int-search" className="visually-hidden">
        Search integrations
      </label>
      <input id="int-search" type="search" data-testid="integrations-search" placeholder="Search integrations (name or description)" value={q} onChange={(e) => setQ(e.target.value)} />
      <FormError error={paged.error} />
      <div className="table-wrap">
        <table data-testid="integrations-table" data-ready={paged.page !== null && !paged.loading && search === q ? "true" : "false"}>
          <TableHead columns={["Name", "Config keys", "OAuth flow", "Connected orgs", "Need re-auth"]} actions={platform} />
          <tbody>
            {list.map((i) => (
              <tr key={i.name} data-integration={i.name}>
                <td data-label="Name">
                  <a href={`#/integrations/${enc(i.name)}`}>{i.name}</a>
                  {i.description && <div className="muted small">{i.description}</div>}
                </td>
                <td data-label="Config keys">{i.config_keys.length ? i.config_keys.join(", ") : <span className="muted">none</span>}</td>
                <td data-label="OAuth flow">{i.oauth_flow ?? <span className="muted">—</span>}</td>
                <td data-label="Connected orgs">
                  {i.connected_orgs} / {i.mapped_orgs}
                </td>
                <td data-label="Need re-auth">{i.needs_reauth_orgs > 0 ? <span className="badge warn">{i.needs_reauth_orgs}</span> : 0}</td>
                {platform && (
                  <td>
                    <button type="button" className="danger" onClick={() => setDeleting(i)} aria-label={`Delete ${i.name}`}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {paged.page && list.length === 0 && <p className="muted empty">{search ? "No integration matches." : "No integrations yet."}</p>}
      <Pager paged={paged} label="Integrations" />
      {creating && (
        <CreateIntegration
          onClose={() => setCreating(false)}
          onCreated={(name) => {
            setCreating(false);
            window.location.hash = integrationHref(name, "schema"); // a new integration starts with its schema
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete integration"
          danger
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await ok(client.DELETE("/api/integrations/{name}", { params: { path: { name: deleting.name }, query: { force: "true" } } }));
            await paged.reload();
          }}
        >
          <p>
            This removes the integration <strong>{deleting.name}</strong>, its config schema and defaults ({deleting.config_keys.length} key
            {deleting.config_keys.length === 1 ? "" : "s"}), <strong>{deleting.mapped_orgs}</strong> organization mapping{deleting.mapped_orgs === 1 ? "" : "s"} with their overrides
            {deleting.oauth_flow ? ", its OAuth provider and every stored token" : ""}. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
