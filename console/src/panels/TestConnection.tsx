import { useState } from "react";
import { type ApiError, client, type Integration, okAs, type TestResult, toApiError } from "../api";
import { FieldError, FormError } from "../ui";

/** Platform admins: GET base_url + path on the server with the org's resolved auth; shows status, latency, the first 2 KB of the body. */
export function TestConnection(props: { integration: Integration }) {
  const [org, setOrg] = useState("");
  const [path, setPath] = useState("/");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
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
            const r = await okAs<TestResult>(client.POST("/api/integrations/{name}/test-connection", { params: { path: { name: props.integration.name } }, body: { path, ...(org ? { org } : {}) } }));
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
            <label htmlFor="tc-path">Path (appended to base_url)</label>
            <input id="tc-path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/api/ping" aria-describedby="tc-path-help" />
            <p id="tc-path-help" className="help">
              Starts with <code>/</code>; stays on the base URL. The server sends a GET with the organization's OAuth token when it is connected.
            </p>
            <FieldError error={error} fields={["path", "base_url"]} id="tc-path-error" />
          </div>
        </div>
        <FormError error={error} fields={["org", "path", "base_url"]} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || path === ""}>
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
            <span data-testid="tc-latency">{result.latency_ms} ms</span> · {result.auth === "oauth_bearer" ? "OAuth bearer token" : "no auth"} · {result.bytes} bytes
            {result.content_type ? ` · ${result.content_type}` : ""}
          </p>
          <p className="muted small mono">{result.url}</p>
          <pre className="test-body" tabIndex={0} aria-label="Response body (first 2 KB)">
            {result.body}
            {result.truncated ? "\n… (truncated)" : ""}
          </pre>
        </div>
      )}
    </section>
  );
}
