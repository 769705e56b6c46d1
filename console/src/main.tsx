import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, api, type Connection, type SessionInfo, setCsrf } from "./api";
import { IntegrationDetailPage } from "./pages/IntegrationDetail";
import { IntegrationsPage } from "./pages/Integrations";
import { EventsPage, KeysPage, OrgDetailPage, OrgsPage } from "./pages/Other";
import { FieldError, FormError, toApiError } from "./ui";
import "./styles.css";

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash || "#/integrations");
  useEffect(() => {
    const on = () => setHash(window.location.hash || "#/integrations");
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function Login(props: { onSignedIn: (s: SessionInfo) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [devLogin, setDevLogin] = useState(false);
  useEffect(() => {
    // Only `bifrost dev` (loopback) registers this route; everywhere else it is a 404 and no button shows.
    api<{ dev_login?: boolean }>("GET", "/api/session/dev")
      .then((r) => setDevLogin(r.dev_login === true))
      .catch(() => setDevLogin(false));
  }, []);
  const finish = async () => {
    const s = await api<SessionInfo>("GET", "/api/session");
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
                await api("POST", "/api/session/dev", undefined, { "x-bifrost-dev-login": "1" });
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
            await api("POST", "/api/session", { api_key: key });
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

function ReauthBanner(props: { hash: string }) {
  const [count, setCount] = useState(0);
  useEffect(() => {
    api<{ connections: Connection[] }>("GET", "/api/oauth/status")
      .then((r) => setCount(r.connections.filter((c) => c.state === "needs_reauth").length))
      .catch(() => setCount(0));
  }, [props.hash]);
  if (count === 0) return null;
  return (
    <div className="banner" role="status">
      {count === 1 ? "1 connection needs" : `${count} connections need`} re-authorization. <a href="#/events?type=needs_reauth">See events</a>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const hash = useHash();
  useEffect(() => {
    api<SessionInfo>("GET", "/api/session")
      .then((s) => {
        setCsrf(s.csrf_token);
        setSession(s);
      })
      .catch(() => setSession(null));
    const out = () => setSession(null);
    window.addEventListener("bifrost:signed-out", out);
    return () => window.removeEventListener("bifrost:signed-out", out);
  }, []);
  useEffect(() => {
    document.getElementById("main")?.focus();
  }, [hash]);
  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <Login onSignedIn={setSession} />;
  const [path, query = ""] = hash.slice(1).split("?");
  const parts = (path ?? "").split("/").filter(Boolean).map(decodeURIComponent);
  const platform = session.role === "platform_admin";
  let page;
  if (parts[0] === "integrations" && parts[1]) page = <IntegrationDetailPage key={parts[1]} name={parts[1]} session={session} />;
  else if (parts[0] === "orgs" && parts[1]) page = <OrgDetailPage key={parts[1]} slug={parts[1]} session={session} />;
  else if (parts[0] === "orgs") page = <OrgsPage session={session} />;
  else if (parts[0] === "events") page = <EventsPage query={new URLSearchParams(query)} />;
  else if (parts[0] === "keys" && platform) page = <KeysPage />;
  else page = <IntegrationsPage session={session} />;
  const nav = [
    ["#/integrations", "Integrations"],
    ["#/orgs", "Organizations"],
    ["#/events", "Events"],
    ...(platform ? [["#/keys", "API keys"]] : []),
  ] as const;
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href="#/integrations">
          Bifrost
        </a>
        <nav aria-label="Main">
          {nav.map(([href, label]) => (
            <a key={href} href={href} aria-current={hash.startsWith(href) ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div className="who">
          <span>
            {session.role}
            {session.org ? ` · ${session.org}` : ""}
          </span>
          <button
            type="button"
            onClick={async () => {
              try {
                await api("DELETE", "/api/session");
              } finally {
                setCsrf(null);
                setSession(null);
              }
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <ReauthBanner hash={hash} />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
