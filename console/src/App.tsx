/** The signed-in shell: hash routing, navigation, who is signed in, sign-out, the re-auth banner. */
import { useEffect, useState } from "react";
import { client, ok, type SessionInfo, setCsrf } from "./api";
import { HASH_REPLACED } from "./hash";
import { parseRoute } from "./lib/routes";
import { AuditPage } from "./pages/Audit";
import { ConnectionPage } from "./pages/Connection";
import { ConnectionsPage } from "./pages/Connections";
import { EventsPage } from "./pages/Events";
import { IntegrationPage } from "./pages/integration/IntegrationPage";
import { IntegrationsPage } from "./pages/Integrations";
import { KeysPage } from "./pages/Keys";
import { Login } from "./pages/Login";
import { OrgDetailPage } from "./pages/OrgDetail";
import { OrgsPage } from "./pages/Orgs";
import { ReauthBanner } from "./panels/ReauthBanner";

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash || "#/integrations");
  useEffect(() => {
    const on = () => setHash(window.location.hash || "#/integrations");
    window.addEventListener("hashchange", on);
    // A page that rewrites its own query (replaceHash) without navigating.
    window.addEventListener(HASH_REPLACED, on);
    return () => {
      window.removeEventListener("hashchange", on);
      window.removeEventListener(HASH_REPLACED, on);
    };
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const hash = useHash();
  useEffect(() => {
    ok(client.GET("/api/session"))
      .then((s) => {
        setCsrf(s.csrf_token);
        setSession(s);
      })
      .catch(() => setSession(null));
    const out = () => setSession(null);
    window.addEventListener("bifrost:signed-out", out);
    return () => window.removeEventListener("bifrost:signed-out", out);
  }, []);
  // A new page takes the focus; a page rewriting its own query (filters) keeps it where it is.
  const pagePath = hash.split("?")[0];
  useEffect(() => {
    document.getElementById("main")?.focus();
  }, [pagePath]);
  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <Login onSignedIn={setSession} />;
  const platform = session.role === "platform_admin";
  const route = parseRoute(hash, platform);
  let page;
  if (route.page === "integration") page = <IntegrationPage key={route.name} name={route.name} tab={route.tab} session={session} />;
  else if (route.page === "connections") page = <ConnectionsPage query={route.query} />;
  else if (route.page === "connection") page = <ConnectionPage key={`${route.integration}/${route.org}`} integration={route.integration} org={route.org} />;
  else if (route.page === "org") page = <OrgDetailPage key={route.slug} slug={route.slug} session={session} />;
  else if (route.page === "orgs") page = <OrgsPage session={session} />;
  else if (route.page === "events") page = <EventsPage query={route.query} />;
  else if (route.page === "audit") page = <AuditPage query={route.query} platform={platform} />;
  else if (route.page === "keys") page = <KeysPage />;
  else page = <IntegrationsPage session={session} />;
  const nav = [
    ["#/integrations", "Integrations"],
    ["#/connections", "Connections"],
    ["#/orgs", "Organizations"],
    ["#/events", "Events"],
    ["#/audit", "Audit"],
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
                await ok(client.DELETE("/api/session"));
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
      <ReauthBanner page={pagePath ?? ""} />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
