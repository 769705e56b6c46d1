/** The "New integration" dialog, with a searchable picker of the provider catalog. */
import { useEffect, useState } from "react";
import { type ApiError, type CatalogProvider, client, ok, okAs, toApiError } from "../api";
import { Dialog, FieldError, FormError } from "../ui";

const MAX_RESULTS = 8;

/** An integration name from a provider name: letters, digits, '-', '_' and '.', starting with a letter. */
function nameFor(p: CatalogProvider): string {
  return p.name.replace(/\(.*?\)/g, "").replace(/[^A-Za-z0-9_.-]+/g, "").slice(0, 64) || "Integration";
}

export function CreateIntegration(props: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<CatalogProvider[]>([]);
  const [picked, setPicked] = useState<CatalogProvider | null>(null);
  const [clientId, setClientId] = useState("");
  const [clientSecret, setClientSecret] = useState("");
  const [placeholders, setPlaceholders] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    if (query.trim() === "") {
      setResults([]);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      okAs<{ providers: CatalogProvider[] }>(client.GET("/api/catalog", { params: { query: { q: query, limit: "500" } } }))
        .then((r) => live && setResults(r.providers.slice(0, MAX_RESULTS)))
        .catch(() => live && setResults([]));
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [query]);

  const required = Object.entries(picked?.oauth?.url_defaults ?? {}).filter(([, v]) => v === "").map(([k]) => k);

  return (
    <Dialog title="New integration" onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await ok(
              client.POST("/api/integrations", {
                body: {
                  name,
                  ...(description ? { description } : {}),
                  ...(picked ? { config_schema: picked.config_schema, ...(picked.defaults ? { defaults: picked.defaults } : {}) } : {}),
                },
              }),
            );
            if (picked?.oauth && clientId) {
              const body = { ...picked.oauth, client_id: clientId, client_secret: clientSecret, url_defaults: { ...(picked.oauth.url_defaults ?? {}), ...placeholders } };
              await ok(client.PUT("/api/integrations/{name}/oauth", { params: { path: { name } }, body: body as never }));
            }
            props.onCreated(name);
          } catch (err) {
            setError(toApiError(err));
          }
        }}
      >
        <label htmlFor="new-int-provider">Provider (optional)</label>
        {picked ? (
          <p className="picked-provider">
            {picked.name} <code>{picked.id}</code> — {picked.auth.join(", ")}{" "}
            <a href={picked.docs_url} target="_blank" rel="noreferrer">
              docs
            </a>{" "}
            <button type="button" onClick={() => setPicked(null)}>
              Change
            </button>
          </p>
        ) : (
          <>
            <input id="new-int-provider" type="search" placeholder="Search the catalog: halo, graph, xero…" value={query} onChange={(e) => setQuery(e.target.value)} />
            {results.length > 0 && (
              <ul className="catalog-results" role="listbox" aria-label="Catalog providers">
                {results.map((p) => (
                  <li key={p.id}>
                    <button
                      type="button"
                      role="option"
                      aria-selected={false}
                      onClick={() => {
                        setPicked(p);
                        setPlaceholders({});
                        if (name === "") setName(nameFor(p));
                      }}
                    >
                      {p.name} <small>{p.category}</small>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        <label htmlFor="new-int-name">Name</label>
        <input id="new-int-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <FieldError error={error} fields={["name", "integration"]} />
        <label htmlFor="new-int-desc">Description</label>
        <input id="new-int-desc" value={description} onChange={(e) => setDescription(e.target.value)} />
        <FieldError error={error} fields={["description"]} />
        {picked?.oauth && (
          <>
            <label htmlFor="new-int-client-id">OAuth client id (leave empty to set the provider later)</label>
            <input id="new-int-client-id" value={clientId} onChange={(e) => setClientId(e.target.value)} autoComplete="off" />
            <label htmlFor="new-int-client-secret">OAuth client secret</label>
            <input id="new-int-client-secret" type="password" value={clientSecret} onChange={(e) => setClientSecret(e.target.value)} autoComplete="new-password" required={clientId !== ""} />
            {required.map((k) => (
              <div key={k}>
                <label htmlFor={`new-int-ph-${k}`}>{`{${k}}`} in the provider's URLs</label>
                <input id={`new-int-ph-${k}`} value={placeholders[k] ?? ""} onChange={(e) => setPlaceholders({ ...placeholders, [k]: e.target.value })} required={clientId !== ""} />
              </div>
            ))}
          </>
        )}
        {picked?.notes && <p className="hint">{picked.notes}</p>}
        <FormError error={error} fields={["name", "integration", "description"]} />
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
