/** One organization's row in the mappings table: entity id/name inline edit, override count, connection badge, Connect (popup) / Copy connect link / Refresh / Disconnect / Overrides / Remove. */
import { useEffect, useRef, useState } from "react";
import { ApiError, client, type Connection, type Integration, type Mapping, type OAuthProvider, ok, okAs, type Org, toApiError } from "../api";
import { connectFinished } from "../lib/connect";
import { enc } from "../lib/format";
import { StateBadge } from "../ui";

export function MappingRow(props: {
  integration: Integration;
  org: Org;
  mapping: Mapping | undefined;
  connection: Connection | undefined;
  provider: OAuthProvider | null;
  onChanged: () => Promise<void>;
  onOverrides: () => void;
  onRemove: () => void;
}) {
  const m = props.mapping;
  const [entityId, setEntityId] = useState(m?.entity_id ?? "");
  const [entityName, setEntityName] = useState(m?.entity_name ?? "");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const popupTimer = useRef<number | null>(null);
  useEffect(() => {
    setEntityId(m?.entity_id ?? "");
    setEntityName(m?.entity_name ?? "");
  }, [m?.entity_id, m?.entity_name]);
  useEffect(() => () => {
    if (popupTimer.current !== null) window.clearInterval(popupTimer.current);
  }, []);
  const dirty = entityId !== (m?.entity_id ?? "") || entityName !== (m?.entity_name ?? "");
  const name = props.integration.name;
  const slug = props.org.slug;
  const run = async (label: string, fn: () => Promise<unknown>) => {
    setBusy(label);
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
    const popup = window.open("about:blank", `bifrost-oauth-${slug}`, "popup,width=600,height=720");
    if (!popup) {
      setError(new ApiError(0, "POPUP_BLOCKED", "The browser blocked the popup; allow popups for this site and try again."));
      return;
    }
    setBusy("Connect");
    try {
      const res = await okAs<{ authorization_url: string }>(client.POST("/api/integrations/{name}/oauth/authorize", { params: { path: { name } }, body: { org: slug } }));
      popup.opener = null; // the provider's page gets no handle on the console
      popup.location.href = res.authorization_url;
      setError(null);
    } catch (e) {
      popup.close();
      setError(toApiError(e));
      setBusy(null);
      return;
    }
    // Poll the connection state every 2 s while the popup is open (the callback page runs no script).
    const started = Date.now();
    popupTimer.current = window.setInterval(async () => {
      let closed = true;
      try {
        closed = popup.closed;
      } catch {
        closed = false;
      }
      try {
        const st = await okAs<{ connections: Connection[] }>(client.GET("/api/integrations/{name}/oauth/status", { params: { path: { name }, query: { org: slug } } }));
        const c = st.connections[0];
        const done = connectFinished(c, props.connection);
        if (done || closed || Date.now() - started > 10 * 60_000) {
          if (popupTimer.current !== null) window.clearInterval(popupTimer.current);
          popupTimer.current = null;
          setBusy(null);
          await props.onChanged();
        }
      } catch {
        /* keep polling */
      }
    }, 2000);
  };
  const [link, setLink] = useState<{ url: string; expires_at: string; copied: boolean } | null>(null);
  const copyLink = async () => {
    setBusy("Link");
    try {
      const res = await okAs<{ url: string; expires_at: string }>(client.POST("/api/integrations/{name}/oauth/links", { params: { path: { name } }, body: { org: slug } }));
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
  const canConnect = props.provider?.flow === "authorization_code";
  const overrideCount = m ? Object.keys(m.config).length : 0;
  const state = props.connection?.state ?? "not_connected";
  return (
    <tr data-org={slug}>
      <th scope="row" data-label="Organization">
        <a href={`#/orgs/${enc(slug)}`}>{props.org.name}</a>
        <div className="muted small">{slug}</div>
      </th>
      <td data-label="Entity">
        <form
          className="inline-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void run("Save", () => ok(client.PUT("/api/integrations/{name}/mappings/{org}", { params: { path: { name, org: slug } }, body: { entity_id: entityId === "" ? null : entityId, entity_name: entityName === "" ? null : entityName } })));
          }}
        >
          <label className="visually-hidden" htmlFor={`eid-${slug}`}>
            Entity id for {slug}
          </label>
          <input id={`eid-${slug}`} placeholder="entity id" value={entityId} onChange={(e) => setEntityId(e.target.value)} aria-invalid={error?.field === "entity_id" ? true : undefined} />
          <label className="visually-hidden" htmlFor={`ename-${slug}`}>
            Entity name for {slug}
          </label>
          <input id={`ename-${slug}`} placeholder="entity name" value={entityName} onChange={(e) => setEntityName(e.target.value)} aria-invalid={error?.field === "entity_name" ? true : undefined} />
          {(dirty || !m) && (
            <button type="submit" disabled={busy !== null || (!m && entityId === "" && entityName === "")}>
              {m ? "Save" : "Map"}
            </button>
          )}
        </form>
      </td>
      <td data-label="Overrides">{m ? overrideCount : <span className="muted">—</span>}</td>
      <td data-label="Connection">{props.provider ? <StateBadge connection={props.connection} /> : <span className="muted">no OAuth</span>}</td>
      <td data-label="Actions">
        <div className="row-actions">
        {props.provider && canConnect && (
          <button type="button" onClick={() => void connect()} disabled={busy !== null} aria-label={`Connect ${slug}`}>
            {busy === "Connect" ? "Waiting…" : state === "connected" ? "Reconnect" : "Connect"}
          </button>
        )}
        {props.provider && canConnect && (
          <button type="button" onClick={() => void copyLink()} disabled={busy !== null} aria-label={`Copy connect link for ${slug}`} title="A one-time link to send to the organization's admin (no API key needed)">
            {busy === "Link" ? "Creating…" : "Copy connect link"}
          </button>
        )}
        {props.provider && (m || state !== "not_connected") && (
          <button type="button" disabled={busy !== null} aria-label={`Refresh ${slug}`} onClick={() => void run("Refresh", () => ok(client.POST("/api/integrations/{name}/oauth/refresh", { params: { path: { name } }, body: { org: slug } })))}>
            Refresh
          </button>
        )}
        {props.provider && state !== "not_connected" && (
          <button type="button" disabled={busy !== null} aria-label={`Disconnect ${slug}`} onClick={() => void run("Disconnect", () => ok(client.DELETE("/api/integrations/{name}/oauth/connection", { params: { path: { name }, query: { org: slug } } })))}>
            Disconnect
          </button>
        )}
        <button type="button" onClick={props.onOverrides} aria-label={`Edit overrides for ${slug}`}>
          Overrides
        </button>
        {m && (
          <button type="button" className="danger" onClick={props.onRemove} aria-label={`Remove mapping for ${slug}`}>
            Remove
          </button>
        )}
        {link && (
          <p className="small" role="status">
            {link.copied ? "Connect link copied" : "Connect link (copy it)"}; works once, until {link.expires_at}:{" "}
            <input readOnly value={link.url} aria-label={`Connect link for ${slug}`} onFocus={(e) => e.currentTarget.select()} />
          </p>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error.message}
          </p>
        )}
        </div>
      </td>
    </tr>
  );
}
