import { useState } from "react";
import { type ApiError, client, type Integration, okAs, type TestMethod, type TestOptions, type TestResult, toApiError } from "../api";
import { FieldError, FormError, useLoad } from "../ui";

const METHODS: TestMethod[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const KIND_LABEL: Record<string, string> = { oauth: "OAuth token", bearer: "Bearer token", basic: "HTTP basic", "api-key": "API key", none: "No auth" };

/** How an auth form reads in the select: "API key in header (api_key)". */
function formLabel(c: TestOptions["auth_choices"][number]): string {
  const where = c.form.startsWith("api-key:header:") ? " in a header" : c.form.startsWith("api-key:query:") ? " in the query" : "";
  return `${KIND_LABEL[c.kind] ?? c.kind}${where}${c.config_keys.length ? ` (${c.config_keys.join(" + ")})` : ""}`;
}

/** The body as sent: JSON when it parses, else the text as is. */
function bodyValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Platform admins: one request to base_url + path on the server, with the method, body and auth form
 * chosen (credentials from the organization's resolved config); shows the auth used, status, duration,
 * a header subset and the first 2 KB of the body, redacted.
 */
export function TestConnection(props: { integration: Integration }) {
  const name = props.integration.name;
  const options = useLoad(() => okAs<TestOptions>(client.GET("/api/integrations/{name}/test-connection", { params: { path: { name } } })), [name]);
  const [org, setOrg] = useState("");
  const [path, setPath] = useState("/");
  const [method, setMethod] = useState<TestMethod>("GET");
  const [auth, setAuth] = useState("");
  const [keyName, setKeyName] = useState("");
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
  const hasBody = method !== "GET" && method !== "HEAD";
  const needsName = auth.endsWith(":NAME");
  const authValue = needsName ? auth.replace(/NAME$/, keyName) : auth;
  const choices = options.data?.auth_choices ?? [];
  return (
    <section aria-labelledby="test-h">
      <h2 id="test-h">Test connection</h2>
      <form
        className="test-connection"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setResult(null);
          try {
            const req = { path, method, ...(org ? { org } : {}), ...(authValue ? { auth: authValue } : {}), ...(hasBody && body !== "" ? { body: bodyValue(body) } : {}) };
            const r = await okAs<TestResult>(client.POST("/api/integrations/{name}/test-connection", { params: { path: { name } }, body: req }));
            setResult(r);
            setError(null);
          } catch (err) {
            setError(toApiError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="grid2">
          <div className="field">
            <label htmlFor="tc-org">Organization (slug)</label>
            <input id="tc-org" value={org} onChange={(e) => setOrg(e.target.value.trim())} placeholder="organization slug" aria-describedby="tc-org-help" />
            <p id="tc-org-help" className="help">
              Empty: the integration defaults, no organization.
            </p>
            <FieldError error={error} fields={["org"]} />
          </div>
          <div className="field">
            <label htmlFor="tc-auth">Auth</label>
            <select id="tc-auth" value={auth} onChange={(e) => setAuth(e.target.value)} aria-describedby="tc-auth-help">
              <option value="">Default ({options.data ? (KIND_LABEL[options.data.default_auth] ?? options.data.default_auth) : "…"})</option>
              {choices.map((c) => (
                <option key={c.form} value={c.form}>
                  {formLabel(c)}
                </option>
              ))}
            </select>
            <p id="tc-auth-help" className="help">
              Credentials come from the organization's config keys (or its OAuth connection), as <code>bifrost sdk generate --auth</code> names them.
            </p>
            <FieldError error={error} fields={["auth"]} id="tc-auth-error" />
          </div>
          {needsName && (
            <div className="field">
              <label htmlFor="tc-auth-name">{auth.startsWith("api-key:header:") ? "Header name" : "Query parameter name"}</label>
              <input id="tc-auth-name" value={keyName} onChange={(e) => setKeyName(e.target.value)} placeholder={auth.startsWith("api-key:header:") ? "X-Api-Key" : "api_key"} />
            </div>
          )}
          <div className="field">
            <label htmlFor="tc-method">Method</label>
            <select id="tc-method" value={method} onChange={(e) => setMethod(e.target.value as TestMethod)}>
              {METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
            <FieldError error={error} fields={["method"]} />
          </div>
          <div className="field">
            <label htmlFor="tc-path">Path (appended to base_url)</label>
            <input id="tc-path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/api/ping" aria-describedby="tc-path-help" />
            <p id="tc-path-help" className="help">
              Starts with <code>/</code>; stays on the base URL. Redirects are shown, not followed.
            </p>
            <FieldError error={error} fields={["path", "base_url"]} id="tc-path-error" />
          </div>
          {hasBody && (
            <div className="field">
              <label htmlFor="tc-body">Body</label>
              <textarea id="tc-body" className="mono" rows={5} value={body} onChange={(e) => setBody(e.target.value)} aria-describedby="tc-body-help" />
              <p id="tc-body-help" className="help">
                Valid JSON is sent as <code>application/json</code>, anything else as <code>text/plain</code>. Empty: no body.
              </p>
              <FieldError error={error} fields={["body"]} id="tc-body-error" />
            </div>
          )}
        </div>
        <FormError error={error} fields={["org", "path", "base_url", "auth", "method", "body"]} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || path === "" || (needsName && keyName === "")}>
            {busy ? "Testing…" : "Test connection"}
          </button>
        </div>
      </form>
      {result && (
        <div className="test-result" role="status" aria-live="polite">
          <p>
            <span className={`badge ${result.status < 300 ? "ok" : result.status < 500 ? "warn" : "bad"}`} data-testid="tc-status">
              HTTP {result.status}
            </span>{" "}
            <span data-testid="tc-latency">{result.latency_ms} ms</span> · <span data-testid="tc-auth-used">{result.auth.choice}{result.auth.config_keys.length ? ` (${result.auth.config_keys.join(", ")})` : ""}</span> · {result.bytes} bytes
            {result.content_type ? ` · ${result.content_type}` : ""}
          </p>
          <p className="muted small mono">
            {result.method} {result.url}
          </p>
          {Object.keys(result.headers).length > 0 && (
            <dl className="test-headers small mono" aria-label="Response headers">
              {Object.entries(result.headers).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          )}
          <pre className="test-body" tabIndex={0} aria-label="Response body (first 2 KB)">
            {result.body}
            {result.truncated ? "\n… (truncated)" : ""}
          </pre>
        </div>
      )}
    </section>
  );
}
