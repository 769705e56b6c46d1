/** API keys (platform admins): create (shown once), list with last use, revoke. */
import { useState } from "react";
import { allPages, type ApiError, client, type KeyRow, ok, okAs, toApiError } from "../api";
import { when } from "../lib/format";
import { ConfirmDialog, CopyButton, FieldError, FormError, TableHead, TextField, useLoad } from "../ui";

type KeyRole = "platform_admin" | "org_admin" | "workflow";

export function KeysPage() {
  const { data, error, reload } = useLoad(async () => ({ api_keys: await allPages<KeyRow>("api_keys", (query) => client.GET("/api/keys", { params: { query } })) }), []);
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
      <div className="table-wrap">
        <table>
          <TableHead columns={["Name", "Prefix", "Role", "Organization", "Last used", "Status"]} actions />
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
