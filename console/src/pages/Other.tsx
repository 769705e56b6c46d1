import { useState } from "react";
import { type ApiError, api, enc, type Org, type SessionInfo } from "../api";
import { ConfirmDialog, CopyButton, FieldError, FormError, StateBadge, TableHead, TextField, toApiError, useLoad, when } from "../ui";

export function OrgsPage(props: { session: SessionInfo }) {
  const platform = props.session.role === "platform_admin";
  const { data, error, reload } = useLoad(() => api<{ organizations: Org[] }>("GET", "/api/organizations"), []);
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<ApiError | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [newName, setNewName] = useState("");
  const [renameError, setRenameError] = useState<ApiError | null>(null);
  return (
    <section>
      <h1>Organizations</h1>
      <FormError error={error} />
      {platform && (
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await api("POST", "/api/organizations", { slug, ...(name ? { name } : {}) });
              setSlug("");
              setName("");
              setCreateError(null);
              await reload();
            } catch (err) {
              setCreateError(toApiError(err));
            }
          }}
        >
          <TextField id="org-slug" label="Slug" value={slug} onChange={setSlug} required error={createError} errorFields={["slug", "org"]} />
          <TextField id="org-name" label="Name" value={name} onChange={setName} error={createError} errorFields={["name"]} />
          <button type="submit" className="primary">
            Create organization
          </button>
          <FormError error={createError} fields={["slug", "org", "name"]} />
        </form>
      )}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Organization</th>
              <th scope="col">Slug</th>
              <th scope="col">Created</th>
              {platform && <th scope="col"><span className="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {(data?.organizations ?? []).map((o) => (
              <tr key={o.slug}>
                <td data-label="Organization">
                  {renaming === o.slug ? (
                    <form
                      className="inline-edit"
                      onSubmit={async (e) => {
                        e.preventDefault();
                        try {
                          await api("PATCH", `/api/organizations/${enc(o.slug)}`, { name: newName });
                          setRenaming(null);
                          setRenameError(null);
                          await reload();
                        } catch (err) {
                          setRenameError(toApiError(err));
                        }
                      }}
                    >
                      <label className="visually-hidden" htmlFor={`rename-${o.slug}`}>
                        New name for {o.slug}
                      </label>
                      <input id={`rename-${o.slug}`} value={newName} onChange={(e) => setNewName(e.target.value)} autoFocus />
                      <button type="submit">Save</button>
                      <button type="button" onClick={() => setRenaming(null)}>
                        Cancel
                      </button>
                      <FieldError error={renameError} fields={["name"]} />
                      <FormError error={renameError} fields={["name"]} />
                    </form>
                  ) : (
                    <a href={`#/orgs/${enc(o.slug)}`}>{o.name}</a>
                  )}
                </td>
                <td data-label="Slug">
                  <code>{o.slug}</code>
                </td>
                <td data-label="Created">{when(o.created_at)}</td>
                {platform && (
                  <td>
                    {renaming !== o.slug && (
                      <button
                        type="button"
                        aria-label={`Rename ${o.slug}`}
                        onClick={() => {
                          setRenaming(o.slug);
                          setNewName(o.name);
                          setRenameError(null);
                        }}
                      >
                        Rename
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface OrgOverview {
  org: { slug: string; name: string };
  integrations: Array<{
    integration: string;
    mapped: boolean;
    entity_id: string | null;
    entity_name: string | null;
    override_count: number;
    oauth_flow: string | null;
    connection: { state: "not_connected" | "connected" | "refreshing" | "needs_reauth" | "error"; expires_at: string | null; last_error: string | null; level: string } | null;
  }>;
}

export function OrgDetailPage(props: { slug: string; session: SessionInfo }) {
  const { data, error } = useLoad(() => api<OrgOverview>("GET", `/api/console/organizations/${enc(props.slug)}`), [props.slug]);
  if (error) return <FormError error={error} />;
  if (!data) return <p className="loading">Loading…</p>;
  return (
    <section>
      <p className="crumbs">
        <a href="#/orgs">Organizations</a> /
      </p>
      <h1>
        {data.org.name} <span className="muted small">{data.org.slug}</span>
      </h1>
      <div className="table-wrap">
        <table>
          <TableHead columns={["Integration", "Entity", "Overrides", "Connection"]} />
          <tbody>
            {data.integrations.map((i) => (
              <tr key={i.integration}>
                <td data-label="Integration">
                  <a href={`#/integrations/${enc(i.integration)}`}>{i.integration}</a>
                </td>
                <td data-label="Entity">{i.mapped ? `${i.entity_id ?? "—"}${i.entity_name ? ` · ${i.entity_name}` : ""}` : <span className="muted">not mapped</span>}</td>
                <td data-label="Overrides">{i.override_count}</td>
                <td data-label="Connection">
                  {i.oauth_flow ? (
                    <StateBadge connection={i.connection ? { ...i.connection, integration: i.integration, org: data.org.slug, entity_id: i.entity_id, last_refresh_at: null, has_refresh_token: false } : null} />
                  ) : (
                    <span className="muted">no OAuth</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface EventRow {
  id: string;
  type: string;
  integration: string | null;
  org: string | null;
  payload: Record<string, unknown>;
  created_at: string;
}

const EVENT_TYPES = ["connected", "refreshed_after_failure", "refresh_failed", "needs_reauth", "disconnected"];

export function EventsPage(props: { query: URLSearchParams }) {
  const [integration, setIntegration] = useState(props.query.get("integration") ?? "");
  const [org, setOrg] = useState(props.query.get("org") ?? "");
  const [type, setType] = useState(props.query.get("type") ?? "");
  const [applied, setApplied] = useState({ integration, org, type });
  const { data, error } = useLoad(() => {
    const q = new URLSearchParams({ limit: "1000" });
    if (applied.integration) q.set("integration", applied.integration);
    if (applied.org) q.set("org", applied.org);
    if (applied.type) q.set("type", applied.type);
    return api<{ events: EventRow[] }>("GET", `/api/events?${q.toString()}`);
  }, [applied.integration, applied.org, applied.type]);
  const events = [...(data?.events ?? [])].reverse();
  return (
    <section>
      <h1>Events</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ integration, org, type });
        }}
      >
        <TextField id="ev-int" label="Integration" value={integration} onChange={setIntegration} />
        <TextField id="ev-org" label="Organization" value={org} onChange={setOrg} />
        <div className="field">
          <label htmlFor="ev-type">Type</label>
          <select id="ev-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">any</option>
            {EVENT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary">
          Filter
        </button>
      </form>
      <FormError error={error} />
      <div className="table-wrap">
        <table>
          <TableHead columns={["When", "Type", "Integration", "Organization", "Details"]} />
          <tbody>
            {events.map((ev) => (
              <tr key={ev.id}>
                <td data-label="When">{when(ev.created_at)}</td>
                <td data-label="Type">
                  <span className={`badge ${ev.type === "needs_reauth" || ev.type === "refresh_failed" ? "warn" : ev.type === "disconnected" ? "muted" : "ok"}`}>{ev.type}</span>
                </td>
                <td data-label="Integration">{ev.integration ?? "—"}</td>
                <td data-label="Organization">{ev.org ?? "—"}</td>
                <td data-label="Details" className="mono small">
                  {Object.keys(ev.payload ?? {}).length ? JSON.stringify(ev.payload) : ""}
                </td>
              </tr>
            ))}
            {data && events.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No events.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface KeyRow {
  id: string;
  name: string | null;
  prefix: string;
  role: string;
  org: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export function KeysPage() {
  const { data, error, reload } = useLoad(() => api<{ api_keys: KeyRow[] }>("GET", "/api/keys"), []);
  const [role, setRole] = useState("org_admin");
  const [org, setOrg] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<KeyRow | null>(null);
  return (
    <section>
      <h1>API keys</h1>
      <FormError error={error} />
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const res = await api<{ key: string }>("POST", "/api/keys", { role, ...(role !== "platform_admin" ? { org } : {}), ...(name ? { name } : {}) });
            setCreated(res.key);
            setCreateError(null);
            setName("");
            await reload();
          } catch (err) {
            setCreateError(toApiError(err));
          }
        }}
      >
        <div className="field">
          <label htmlFor="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole(e.target.value)}>
            <option>platform_admin</option>
            <option>org_admin</option>
            <option>workflow</option>
          </select>
          <FieldError error={createError} fields={["role"]} />
        </div>
        {role !== "platform_admin" && (
          <TextField id="key-org" label="Organization" value={org} onChange={setOrg} error={createError} errorFields={["org"]} />
        )}
        <TextField id="key-name" label="Name" value={name} onChange={setName} error={createError} errorFields={["name"]} />
        <button type="submit" className="primary">
          Create key
        </button>
        <FormError error={createError} fields={["role", "org", "name"]} />
      </form>
      {created && (
        <div className="notice" role="status">
          <p>
            <strong>Copy the new key now:</strong> it is shown only once.
          </p>
          <div className="row">
            <input readOnly value={created} aria-label="New API key" className="mono" />
            <CopyButton text={created} label="Copy new API key" />
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Role</th>
              <th scope="col">Organization</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {(data?.api_keys ?? []).map((k) => (
              <tr key={k.id}>
                <td data-label="Name">{k.name ?? <span className="muted">—</span>}</td>
                <td data-label="Prefix">
                  <code>{k.prefix}</code>
                </td>
                <td data-label="Role">{k.role}</td>
                <td data-label="Organization">{k.org ?? "—"}</td>
                <td data-label="Last used">{when(k.last_used_at)}</td>
                <td data-label="Status">{k.revoked_at ? <span className="badge muted">revoked</span> : <span className="badge ok">active</span>}</td>
                <td>
                  {!k.revoked_at && (
                    <button type="button" className="danger" aria-label={`Revoke ${k.prefix}`} onClick={() => setRevoking(k)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {revoking && (
        <ConfirmDialog
          title={`Revoke key ${revoking.prefix}?`}
          confirmLabel="Revoke key"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api("DELETE", `/api/keys/${enc(revoking.id)}`);
            await reload();
          }}
        >
          <p>
            Anything using the {revoking.role} key <code>{revoking.prefix}</code>
            {revoking.name ? ` (${revoking.name})` : ""} stops working immediately, including console sessions signed in with it.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
