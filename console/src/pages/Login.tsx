/** Sign-in: an API key exchanged for a session cookie, or "Dev login" under `bifrost dev`. */
import { useEffect, useState } from "react";
import { type ApiError, client, ok, type SessionInfo, setCsrf, toApiError } from "../api";
import { FieldError, FormError } from "../ui";

export function Login(props: { onSignedIn: (s: SessionInfo) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [devLogin, setDevLogin] = useState(false);
  useEffect(() => {
    // Only `bifrost dev` (loopback) registers this route; everywhere else it is a 404 and no button shows.
    ok(client.GET("/api/session/dev"))
      .then((r) => setDevLogin(r.dev_login === true))
      .catch(() => setDevLogin(false));
  }, []);
  const finish = async () => {
    const s = await ok(client.GET("/api/session"));
    setCsrf(s.csrf_token);
    props.onSignedIn(s);
  };
  return (
    <main className="login">
      <h1>Bifrost console</h1>
      {devLogin && (
        <div className="dev-login">
          <p className="warn small">
            <strong>Development mode</strong> (<code>bifrost dev</code>): sign in as platform_admin without a key. Never expose this server.
          </p>
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await ok(client.POST("/api/session/dev", { headers: { "x-bifrost-dev-login": "1" } }));
                await finish();
              } catch (err) {
                setError(toApiError(err));
              } finally {
                setBusy(false);
              }
            }}
          >
            Dev login
          </button>
          <p className="help">or sign in with an API key:</p>
        </div>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          try {
            await ok(client.POST("/api/session", { body: { api_key: key } }));
            setKey("");
            await finish();
          } catch (err) {
            setError(toApiError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor="api-key">API key</label>
        <input id="api-key" name="api_key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required aria-describedby="api-key-help" />
        <p id="api-key-help" className="help">
          A platform_admin or org_admin key (<code>bifrost keys create</code>). The key is exchanged for a session cookie and is not stored in the browser.
        </p>
        <FieldError error={error} fields={["api_key"]} />
        <FormError error={error} fields={["api_key"]} />
        <button className="primary" type="submit" disabled={busy || key === ""}>
          Sign in
        </button>
      </form>
    </main>
  );
}
