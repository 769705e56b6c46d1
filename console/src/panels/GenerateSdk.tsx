import { useState } from "react";
import { type ApiError, client, type Integration, okAs, toApiError } from "../api";
import { CopyButton, FieldError, FormError } from "../ui";

/** The `auth` choices of POST /api/integrations/{name}/sdk/generate (`bifrost sdk generate --auth`). */
const AUTH_KINDS = [
  { value: "spec", label: "As the spec declares" },
  { value: "oauth", label: "OAuth bearer token" },
  { value: "bearer", label: "Bearer token (config bearer_token)" },
  { value: "basic", label: "HTTP basic (config username / password)" },
  { value: "api-key:header", label: "API key in a header (config api_key)" },
  { value: "api-key:query", label: "API key in the query (config api_key)" },
  { value: "none", label: "No authentication" },
] as const;

/** The answer of POST /api/integrations/{name}/sdk/generate (the parts shown here). */
interface Generated {
  file_name: string;
  source: string;
  auth: string;
  config_keys_added: Array<{ key: string }>;
  warnings: string[];
}

/** The `auth` value sent: `api-key:header:NAME` / `api-key:query:NAME` take the name typed. */
function authChoice(kind: string, name: string): string {
  return kind.startsWith("api-key:") ? `${kind}:${name.trim()}` : kind;
}

/** Platform admins: generate a typed client module from an OpenAPI spec URL, choosing the authentication. */
export function GenerateSdk(props: { integration: Integration; onGenerated: () => void }) {
  const [specUrl, setSpecUrl] = useState("");
  const [kind, setKind] = useState("spec");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<{ file_name: string; source: string; auth: string; added: string[]; warnings: string[] } | null>(null);
  const needsName = kind.startsWith("api-key:");
  return (
    <section aria-labelledby="gen-h">
      <h2 id="gen-h">Generate client</h2>
      <form
        className="generate-sdk"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setResult(null);
          try {
            const r = await okAs<Generated>(
              client.POST("/api/integrations/{name}/sdk/generate", { params: { path: { name: props.integration.name } }, body: { spec_url: specUrl.trim(), auth: authChoice(kind, name) } }),
            );
            setResult({ file_name: r.file_name, source: r.source, auth: r.auth, added: r.config_keys_added.map((k) => k.key), warnings: r.warnings });
            setError(null);
            props.onGenerated();
          } catch (err) {
            setError(toApiError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="grid2">
          <div className="field">
            <label htmlFor="gen-spec">OpenAPI spec URL</label>
            <input id="gen-spec" value={specUrl} onChange={(e) => setSpecUrl(e.target.value)} placeholder="https://api.example.com/openapi.json" />
            <FieldError error={error} fields={["spec_url", "spec"]} />
          </div>
          <div className="field">
            <label htmlFor="gen-auth">Authentication</label>
            <select id="gen-auth" value={kind} onChange={(e) => setKind(e.target.value)} aria-describedby="gen-auth-help">
              {AUTH_KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
            <p id="gen-auth-help" className="help">
              For specs that declare no security scheme (or the wrong one): every call then uses this one. The config keys it needs are added.
            </p>
            <FieldError error={error} fields={["auth"]} />
          </div>
          {needsName && (
            <div className="field">
              <label htmlFor="gen-auth-name">{kind === "api-key:header" ? "Header name" : "Query parameter name"}</label>
              <input id="gen-auth-name" value={name} onChange={(e) => setName(e.target.value)} placeholder={kind === "api-key:header" ? "X-Api-Key" : "api_key"} />
            </div>
          )}
        </div>
        <FormError error={error} fields={["spec_url", "spec", "auth"]} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || specUrl.trim() === "" || (needsName && name.trim() === "")}>
            {busy ? "Generating…" : "Generate"}
          </button>
        </div>
      </form>
      {result && (
        <div className="generate-result" role="status" aria-live="polite">
          <p>
            <strong>{result.file_name}</strong> · auth <code>{result.auth}</code> · {result.added.length > 0 ? `config keys added: ${result.added.join(", ")}` : "config schema unchanged"}{" "}
            <CopyButton text={result.source} label="Copy source" />
          </p>
          {result.warnings.length > 0 && (
            <ul className="muted small">
              {result.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
