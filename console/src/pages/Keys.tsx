/** API keys (platform admins): create (shown once), server-side search, one page of ≤ 100 at a time with last use, revoke. */
import { useState } from "react";
import { type ApiError, client, type KeyRow, ok, okAs, toApiError } from "../api";
import { when } from "../lib/format";
import { pageQuery } from "../lib/paging";
import { Pager, useDebounced, usePaged } from "../paged";
import { ConfirmDialog, CopyButton, FieldError, FormError, TableHead, TextField } from "../ui";

type KeyRole = "platform_admin" | "org_admin" | "workflow";

export function KeysPage() {
  const [q, setQ] = useState("");
  const search = useDebounced(q);
  const paged = usePaged(search, async (cursor) => {
    const query = pageQuery(cursor, { q: search.trim() });
    const res = await ok(client.GET("/api/keys", { params: { query } }));
    return { rows: res.api_keys, next_cursor: res.next_cursor, total: null };
  });
  const reload = paged.reload;
  const keys = paged.page?.rows ?? [];
  const [role, setRole] = useState("org_admin");
  const [org, setOrg] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<KeyRow | null>(null);
  return (
    <section>
      <h1>API keys</h1>
      <FormError error={paged.error} />
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const res = await okAs<{ key: string }>(client.POST("/api/keys", { body: { role: role as KeyRole, ...(role !== "platform_admin" ? { org } : {}), ...(name ? { name } : {}) } }));
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
      <label htmlFor="key-search" className="visually-hidden">
        Search API keys
      </label>
      <input id="key-search" type="search" data-testid="keys-search" placeholder="Search API keys (name or prefix)" value={q} onChange={(e) => setQ(e.target.value)} />
      <div className="table-wrap">
        <table data-testid="keys-table" data-ready={paged.page !== null && !paged.loading && search === q ? "true" : "false"}>
          <TableHead columns={["Name", "Prefix", "Role", "Organization", "Last used", "Status"]} actions />
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-prefix={k.prefix}>
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
      {paged.page && keys.length === 0 && <p className="muted empty">{search ? "No API key matches." : "No API keys yet."}</p>}
      <Pager paged={paged} label="API keys" />
      {revoking && (
        <ConfirmDialog
          title={`Revoke key ${revoking.prefix}?`}
          confirmLabel="Revoke key"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await ok(client.DELETE("/api/keys/{id}", { params: { path: { id: revoking.id } } }));
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
