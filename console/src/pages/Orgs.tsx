/** Organizations: server-side search, one page of ≤ 100 at a time, create, rename. */
import { useState } from "react";
import { type ApiError, client, ok, type SessionInfo, toApiError } from "../api";
import { enc, when } from "../lib/format";
import { pageQuery } from "../lib/paging";
import { Pager, useDebounced, usePaged } from "../paged";
import { FieldError, FormError, TableHead, TextField } from "../ui";

export function OrgsPage(props: { session: SessionInfo }) {
  const platform = props.session.role === "platform_admin";
  const [q, setQ] = useState("");
  const search = useDebounced(q);
  const paged = usePaged(search, async (cursor) => {
    const query = pageQuery(cursor, { q: search.trim() });
    const res = await ok(client.GET("/api/organizations", { params: { query } }));
    return { rows: res.organizations, next_cursor: res.next_cursor, total: null };
  });
  const reload = paged.reload;
  const rows = paged.page?.rows ?? [];
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<ApiError | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [newName, setNewName] = useState("");
  const [renameError, setRenameError] = useState<ApiError | null>(null);
  return (
    <section>
      <h1>Organizations</h1>
      <FormError error={paged.error} />
      {platform && (
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await ok(client.POST("/api/organizations", { body: { slug, ...(name ? { name } : {}) } }));
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
      <label htmlFor="org-search" className="visually-hidden">
        Search organizations
      </label>
      <input id="org-search" type="search" data-testid="orgs-search" placeholder="Search organizations (slug or name)" value={q} onChange={(e) => setQ(e.target.value)} />
      <div className="table-wrap">
        <table data-testid="orgs-table" data-ready={paged.page !== null && !paged.loading && search === q ? "true" : "false"}>
          <TableHead columns={["Organization", "Slug", "Created"]} actions={platform} />
          <tbody>
            {rows.map((o) => (
              <tr key={o.slug}>
                <td data-label="Organization">
                  {renaming === o.slug ? (
                    <form
                      className="inline-edit"
                      onSubmit={async (e) => {
                        e.preventDefault();
                        try {
                          await ok(client.PATCH("/api/organizations/{slug}", { params: { path: { slug: o.slug } }, body: { name: newName } }));
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
      {paged.page && rows.length === 0 && <p className="muted empty">{search ? "No organization matches." : "No organizations yet."}</p>}
      <Pager paged={paged} label="Organizations" />
    </section>
  );
}
