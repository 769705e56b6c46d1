/**
 * The buttons of one OAuth connection, only those that fit its state (lib/connections `rowActions`):
 * Connect / Reconnect (popup), Copy connect link, Refresh, Disconnect. Used by the Mappings tab rows
 * and the per-connection page.
 */
import { useEffect, useRef, useState } from "react";
import { ApiError, client, ok, okAs, toApiError } from "../api";
import { connectFinished } from "../lib/connect";
import { type ConnState, rowActions } from "../lib/connections";
import { fetchConnection } from "../api/connections";

export interface ConnectionTarget {
  integration: string;
  org: string | null;
  /** The provider's flow; null = the integration has no OAuth provider. */
  flow: string | null;
  state: ConnState;
  last_refresh_at: string | null;
}

/** POST …/oauth/links for one org: the link URL and its expiry. */
export async function createConnectLink(integration: string, org: string): Promise<{ url: string; expires_at: string }> {
  return okAs<{ url: string; expires_at: string }>(client.POST("/api/integrations/{name}/oauth/links", { params: { path: { name: integration } }, body: { org } }));
}

export function refreshConnection(integration: string, org: string | null) {
  return ok(client.POST("/api/integrations/{name}/oauth/refresh", { params: { path: { name: integration } }, body: org === null ? {} : { org } }));
}

export function disconnectConnection(integration: string, org: string | null) {
  return ok(client.DELETE("/api/integrations/{name}/oauth/connection", { params: { path: { name: integration }, query: org === null ? {} : { org } } }));
}

/** Polls the connection every 2 s while the connect popup is open (the callback page runs no script); mounted only while a connect is pending, so idle rows run no timer or effect. */
function ConnectPoll(props: { popup: Window; target: ConnectionTarget; onDone: () => void }) {
  const onDone = useRef(props.onDone);
  onDone.current = props.onDone;
  const { popup, target } = props;
  useEffect(() => {
    const started = Date.now();
    const before = { last_refresh_at: target.last_refresh_at };
    let finished = false;
    const timer = window.setInterval(async () => {
      let closed = true;
      try {
        closed = popup.closed;
      } catch {
        closed = false;
      }
      try {
        const now = await fetchConnection(target.integration, target.org);
        if (!finished && (connectFinished(now ?? undefined, before) || closed || Date.now() - started > 10 * 60_000)) {
          finished = true;
          window.clearInterval(timer);
          onDone.current();
        }
      } catch {
        /* keep polling */
      }
    }, 2000);
    return () => window.clearInterval(timer);
  }, [popup, target.integration, target.org, target.last_refresh_at]);
  return null;
}

/** `inline`: the buttons without their own `.row-actions` wrapper (inside a row's action cell, which is one). */
export function ConnectionActions(props: { target: ConnectionTarget; onChanged: () => Promise<void>; inline?: boolean }) {
  const t = props.target;
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [link, setLink] = useState<{ url: string; expires_at: string; copied: boolean } | null>(null);
  const [polling, setPolling] = useState<{ popup: Window; target: ConnectionTarget } | null>(null);
  const who = t.org ?? "";
  const label = (verb: string, sep = " ") => (t.org ? `${verb}${sep}${who}` : verb);
  const run = async (name: string, fn: () => Promise<unknown>) => {
    setBusy(name);
    try {
      await fn();
      setError(null);
      await props.onChanged();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(null);
    }
  };
  const connect = async () => {
    // Open the window synchronously (popup blockers), then point it at the provider.
    const popup = window.open("about:blank", `bifrost-oauth-${t.integration}-${who}`, "popup,width=600,height=720");
    if (!popup) {
      setError(new ApiError(0, "POPUP_BLOCKED", "The browser blocked the popup; allow popups for this site and try again."));
      return;
    }
    setBusy("Connect");
    try {
      const res = await okAs<{ authorization_url: string }>(client.POST("/api/integrations/{name}/oauth/authorize", { params: { path: { name: t.integration } }, body: t.org === null ? {} : { org: t.org } }));
      popup.opener = null; // the provider's page gets no handle on the console
      popup.location.href = res.authorization_url;
      setError(null);
    } catch (e) {
      popup.close();
      setError(toApiError(e));
      setBusy(null);
      return;
    }
    setPolling({ popup, target: t });
  };
  const pollDone = () => {
    setPolling(null);
    setBusy(null);
    void props.onChanged();
  };
  const copyLink = async () => {
    if (t.org === null) return;
    setBusy("Link");
    try {
      const res = await createConnectLink(t.integration, t.org);
      let copied = false;
      try {
        await navigator.clipboard.writeText(res.url);
        copied = true;
      } catch {
        /* no clipboard permission: the link is shown to copy by hand */
      }
      setLink({ url: res.url, expires_at: res.expires_at, copied });
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(null);
    }
  };
  const a = rowActions(t);
  const content = (
    <>
      {a.connect && (
        <button type="button" onClick={() => void connect()} disabled={busy !== null} aria-label={label(a.connect)}>
          {busy === "Connect" ? "Waiting…" : a.connect}
        </button>
      )}
      {a.link && (
        <button type="button" onClick={() => void copyLink()} disabled={busy !== null} aria-label={label("Copy connect link for")} title="A one-time link to send to the organization's admin (no API key needed)">
          {busy === "Link" ? "Creating…" : "Copy connect link"}
        </button>
      )}
      {a.refresh && (
        <button type="button" disabled={busy !== null} aria-label={label("Refresh")} onClick={() => void run("Refresh", () => refreshConnection(t.integration, t.org))}>
          {busy === "Refresh" ? "Refreshing…" : "Refresh"}
        </button>
      )}
      {a.disconnect && (
        <button type="button" disabled={busy !== null} aria-label={label("Disconnect")} onClick={() => void run("Disconnect", () => disconnectConnection(t.integration, t.org))}>
          Disconnect
        </button>
      )}
      {t.flow === "client_credentials" && t.state === "not_connected" && <span className="muted small">token obtained on first use</span>}
      {link && (
        <p className="small" role="status">
          {link.copied ? "Connect link copied" : "Connect link (copy it)"}; works once, until {link.expires_at}:{" "}
          <input readOnly value={link.url} aria-label={label("Connect link for")} onFocus={(e) => e.currentTarget.select()} />
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error.message}
        </p>
      )}
      {polling && <ConnectPoll popup={polling.popup} target={polling.target} onDone={pollDone} />}
    </>
  );
  return props.inline ? content : <div className="row-actions">{content}</div>;
}
