import { useEffect, useRef, useState } from "react";
import { ApiError, api, type ConfigType, type Connection, enc, type Integration, isMasked, type Mapping, type OAuthProvider, type Org, type SchemaItem, type SessionInfo } from "../api";
import { ConfirmDialog, CopyButton, Dialog, FieldError, FormError, StateBadge, TableHead, toApiError, useLoad } from "../ui";
import { confidenceLabel, parseEntities, type Suggestion, suggestAll } from "../match";
import { ConfigForm } from "./ConfigForm";

const TYPES: ConfigType[] = ["string", "int", "bool", "json", "secret"];
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Row {
  key: string;
  type: ConfigType;
  required: boolean;
  description: string;
  options: string;
}

function toRows(schema: SchemaItem[]): Row[] {
  return schema.map((s) => ({ key: s.key, type: s.type, required: s.required === true, description: s.description ?? "", options: (s.options ?? []).join(", ") }));
}

/** Client-side checks while typing (the server checks again on save). */
function rowErrors(rows: Row[]): Array<Partial<Record<keyof Row, string>>> {
  return rows.map((r, i) => {
    const e: Partial<Record<keyof Row, string>> = {};
    if (r.key === "") e.key = "A key is required.";
    else if (!KEY_RE.test(r.key)) e.key = "Letters, digits and _ only, not starting with a digit.";
    else if (rows.findIndex((x) => x.key === r.key) !== i) e.key = `"${r.key}" appears twice.`;
    if (r.options.trim() !== "") {
      if (r.type !== "string" && r.type !== "int") e.options = `Options are only allowed for string and int keys.`;
      else if (r.type === "int" && r.options.split(",").some((o) => !/^-?\d+$/.test(o.trim()))) e.options = "Int options must be integers.";
    }
    return e;
  });
}

function toSchema(rows: Row[]): SchemaItem[] {
  return rows.map((r) => {
    const opts = r.options.trim() === "" ? undefined : r.options.split(",").map((o) => o.trim()).filter(Boolean).map((o) => (r.type === "int" ? Number(o) : o));
    return { key: r.key, type: r.type, ...(r.required ? { required: true } : {}), ...(r.description ? { description: r.description } : {}), ...(opts ? { options: opts } : {}) };
  });
}

function SchemaEditor(props: { integration: Integration; canEdit: boolean; onSaved: () => Promise<void> }) {
  const [rows, setRows] = useState<Row[]>(() => toRows(props.integration.config_schema));
  const [error, setError] = useState<ApiError | null>(null);
  const [refused, setRefused] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setRows(toRows(props.integration.config_schema)), [props.integration]);
  const errs = rowErrors(rows);
  const invalid = errs.some((e) => Object.keys(e).length > 0);
  const update = (i: number, patch: Partial<Row>) => {
    setSaved(false);
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  };
  const put = async (force: boolean) => {
    await api("PUT", `/api/integrations/${enc(props.integration.name)}/schema`, { config_schema: toSchema(rows), ...(force ? { force: true } : {}) });
    setError(null);
    setSaved(true);
    await props.onSaved();
  };
  const serverFieldError = (i: number, f: string) => (error && error.field === `config_schema[${i}].${f}` ? error.message : null);
  return (
    <section aria-labelledby="schema-h">
      <h2 id="schema-h">Config schema</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await put(false);
          } catch (err) {
            const ae = toApiError(err);
            if (ae.code === "BIFROST_SCHEMA_CHANGE_REFUSED") setRefused(ae);
            else setError(ae);
          }
        }}
      >
        <div className="schema-rows">
          {rows.map((r, i) => (
            <fieldset className="schema-row" key={i}>
              <legend className="visually-hidden">Key {i + 1}</legend>
              <div>
                <label htmlFor={`sk-${i}`}>Key</label>
                <input id={`sk-${i}`} value={r.key} onChange={(e) => update(i, { key: e.target.value })} disabled={!props.canEdit} aria-invalid={errs[i]?.key || serverFieldError(i, "key") ? true : undefined} />
                {(errs[i]?.key || serverFieldError(i, "key")) && (
                  <p className="field-error" role="alert">
                    {errs[i]?.key ?? serverFieldError(i, "key")}
                  </p>
                )}
              </div>
              <div>
                <label htmlFor={`st-${i}`}>Type</label>
                <select id={`st-${i}`} value={r.type} onChange={(e) => update(i, { type: e.target.value as ConfigType })} disabled={!props.canEdit}>
                  {TYPES.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </div>
              <div className="check">
                <input id={`sr-${i}`} type="checkbox" checked={r.required} onChange={(e) => update(i, { required: e.target.checked })} disabled={!props.canEdit} />
                <label htmlFor={`sr-${i}`}>Required</label>
              </div>
              <div className="grow">
                <label htmlFor={`sd-${i}`}>Description</label>
                <input id={`sd-${i}`} value={r.description} onChange={(e) => update(i, { description: e.target.value })} disabled={!props.canEdit} />
              </div>
              <div>
                <label htmlFor={`so-${i}`}>Options</label>
                <input id={`so-${i}`} value={r.options} placeholder="a, b, c" onChange={(e) => update(i, { options: e.target.value })} disabled={!props.canEdit} aria-invalid={errs[i]?.options ? true : undefined} />
                {(errs[i]?.options || serverFieldError(i, "options")) && (
                  <p className="field-error" role="alert">
                    {errs[i]?.options ?? serverFieldError(i, "options")}
                  </p>
                )}
              </div>
              {props.canEdit && (
                <button type="button" className="danger link" aria-label={`Remove key ${r.key || i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                  Remove
                </button>
              )}
            </fieldset>
          ))}
        </div>
        {error && !/^config_schema\[\d+\]\.(key|options)$/.test(error.field ?? "") && <FormError error={error} />}
        {props.canEdit && (
          <div className="actions">
            <button type="button" onClick={() => setRows((rs) => [...rs, { key: "", type: "string", required: false, description: "", options: "" }])}>
              Add key
            </button>
            {saved && <span className="ok small" role="status">Schema saved</span>}
            <button type="submit" className="primary" disabled={invalid}>
              Save schema
            </button>
          </div>
        )}
      </form>
      {refused && (
        <ConfirmDialog title="Delete stored values?" confirmLabel="Save and delete values" danger onClose={() => setRefused(null)} onConfirm={() => put(true)}>
          <p>{refused.message}</p>
          <p>
            Saving this schema deletes <strong>{String(refused.details.would_delete ?? "some")}</strong> stored value{refused.details.would_delete === 1 ? "" : "s"}
            {Array.isArray(refused.details.keys) ? ` (keys: ${(refused.details.keys as unknown[]).map(String).join(", ")})` : ""}.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

const PROVIDER_FIELDS = ["client_id", "authorization_url", "token_url", "issuer", "revocation_url"] as const;

function OAuthSettings(props: { integration: Integration; provider: OAuthProvider | null; canEdit: boolean; publicUrl: string; onSaved: () => Promise<void> }) {
  const p = props.provider;
  const [flow, setFlow] = useState<string>(p?.flow ?? "authorization_code");
  const [fields, setFields] = useState<Record<string, string>>(() => Object.fromEntries(PROVIDER_FIELDS.map((f) => [f, typeof p?.[f] === "string" ? (p[f] as string) : ""])));
  const [scopes, setScopes] = useState((p?.scopes ?? []).join(" "));
  const [method, setMethod] = useState(p?.token_auth_method ?? "client_secret_basic");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [removing, setRemoving] = useState(false);
  const callback = `${props.publicUrl}/api/oauth/callback/${enc(props.integration.name)}`;
  const masked = isMasked(p?.client_secret) ? p?.client_secret : null;
  return (
    <section aria-labelledby="oauth-h">
      <h2 id="oauth-h">OAuth provider</h2>
      <div className="field">
        <label htmlFor="callback-url">Callback URL (register it at the provider)</label>
        <div className="row">
          <input id="callback-url" readOnly value={callback} />
          <CopyButton text={callback} label="Copy callback URL" />
        </div>
      </div>
      {!p && !props.canEdit && <p className="muted">No OAuth provider.</p>}
      {props.canEdit && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const body: Record<string, unknown> = {};
            for (const [k, v] of Object.entries(p ?? {})) if (!["flow", "client_secret", "scopes", "token_auth_method", ...PROVIDER_FIELDS].includes(k)) body[k] = v;
            body.flow = flow;
            for (const f of PROVIDER_FIELDS) if (fields[f]) body[f] = fields[f];
            if (scopes.trim()) body.scopes = scopes.trim().split(/[\s,]+/);
            body.token_auth_method = method;
            if (secret !== null && secret !== "") body.client_secret = secret;
            else if (masked) body.client_secret = masked;
            try {
              await api("PUT", `/api/integrations/${enc(props.integration.name)}/oauth`, body);
              setSecret(null);
              setError(null);
              setSaved(true);
              await props.onSaved();
            } catch (err) {
              setSaved(false);
              setError(toApiError(err));
            }
          }}
        >
          <div className="grid2">
            <div className="field">
              <label htmlFor="oa-flow">Flow</label>
              <select id="oa-flow" value={flow} onChange={(e) => setFlow(e.target.value)}>
                <option value="authorization_code">authorization_code</option>
                <option value="client_credentials">client_credentials</option>
              </select>
              <FieldError error={error} fields={["flow"]} />
            </div>
            {PROVIDER_FIELDS.map((f) => (
              <div className="field" key={f}>
                <label htmlFor={`oa-${f}`}>{f}</label>
                <input id={`oa-${f}`} value={fields[f] ?? ""} onChange={(e) => setFields((x) => ({ ...x, [f]: e.target.value }))} placeholder={f.endsWith("_url") ? "https://…/{entity_id}/…" : ""} />
                <FieldError error={error} fields={[f]} />
              </div>
            ))}
            <div className="field">
              <label htmlFor="oa-secret">Client secret</label>
              {masked && secret === null ? (
                <div className="secret">
                  <span className="secret-state">set · {masked.fingerprint}</span>
                  <button type="button" onClick={() => setSecret("")}>
                    Replace
                  </button>
                </div>
              ) : (
                <input id="oa-secret" type="password" autoComplete="new-password" value={secret ?? ""} onChange={(e) => setSecret(e.target.value)} placeholder={masked ? "new client secret" : "not set"} />
              )}
              <FieldError error={error} fields={["client_secret"]} />
            </div>
            <div className="field">
              <label htmlFor="oa-scopes">Scopes (space separated)</label>
              <input id="oa-scopes" value={scopes} onChange={(e) => setScopes(e.target.value)} />
              <FieldError error={error} fields={["scopes"]} />
            </div>
            <div className="field">
              <label htmlFor="oa-method">Token auth method</label>
              <select id="oa-method" value={method} onChange={(e) => setMethod(e.target.value)}>
                <option>client_secret_basic</option>
                <option>client_secret_post</option>
              </select>
            </div>
          </div>
          <FormError error={error} fields={["flow", "client_secret", "scopes", ...PROVIDER_FIELDS]} />
          <div className="actions">
            {p && (
              <button type="button" className="danger" onClick={() => setRemoving(true)}>
                Remove provider
              </button>
            )}
            {saved && <span className="ok small" role="status">Provider saved</span>}
            <button type="submit" className="primary">
              Save provider
            </button>
          </div>
        </form>
      )}
      {removing && (
        <ConfirmDialog
          title="Remove the OAuth provider?"
          confirmLabel="Remove provider"
          danger
          onClose={() => setRemoving(false)}
          onConfirm={async () => {
            await api("DELETE", `/api/integrations/${enc(props.integration.name)}/oauth`);
            await props.onSaved();
          }}
        >
          <p>This removes the provider settings and every stored OAuth token of {props.integration.name}.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function MappingRow(props: {
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
  const base = `/api/integrations/${enc(props.integration.name)}`;
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
      const res = await api<{ authorization_url: string }>("POST", `${base}/oauth/authorize`, { org: slug });
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
        const st = await api<{ connections: Connection[] }>("GET", `${base}/oauth/status?org=${enc(slug)}`);
        const c = st.connections[0];
        const done = c && c.state === "connected" && c.last_refresh_at !== props.connection?.last_refresh_at;
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
            void run("Save", () => api("PUT", `${base}/mappings/${enc(slug)}`, { entity_id: entityId === "" ? null : entityId, entity_name: entityName === "" ? null : entityName }));
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
        {props.provider && (m || state !== "not_connected") && (
          <button type="button" disabled={busy !== null} aria-label={`Refresh ${slug}`} onClick={() => void run("Refresh", () => api("POST", `${base}/oauth/refresh`, { org: slug }))}>
            Refresh
          </button>
        )}
        {props.provider && state !== "not_connected" && (
          <button type="button" disabled={busy !== null} aria-label={`Disconnect ${slug}`} onClick={() => void run("Disconnect", () => api("DELETE", `${base}/oauth/connection?org=${enc(slug)}`))}>
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

function parseBulk(text: string): Array<{ org: string; entity_id: string | null; entity_name: string | null; line: number }> {
  const out = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || (i === 0 && /^org\s*,/i.test(line))) continue;
    const [org = "", id = "", ...name] = line.split(",");
    out.push({ org: org.trim(), entity_id: id.trim() || null, entity_name: name.join(",").trim() || null, line: i + 1 });
  }
  return out;
}

interface Proposal {
  entity_id: string | null;
  entity_name: string | null;
  line: number;
  suggestion: Suggestion;
  org: string;
  accepted: boolean;
}

/** Paste `entity_id,entity_name` rows; each gets a suggested org (exact name/slug first, then similarity) to accept or change. */
function EntitySuggestions(props: { orgs: Org[]; onAdd: (lines: string[]) => void }) {
  const [text, setText] = useState("");
  const [proposals, setProposals] = useState<Proposal[] | null>(null);
  const accepted = (proposals ?? []).filter((p) => p.accepted && p.org !== "");
  return (
    <details className="suggest">
      <summary>Suggest organizations for entities…</summary>
      <label htmlFor="entity-text">
        Entities, one per line: <code>entity_id,entity_name</code>
      </label>
      <textarea id="entity-text" rows={4} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} placeholder={"customer-123,Acme Corp\ncustomer-456,Globex Inc"} />
      <div className="actions">
        <button
          type="button"
          disabled={text.trim() === ""}
          onClick={() => {
            const entities = parseEntities(text);
            const suggestions = suggestAll(entities, props.orgs);
            setProposals(
              entities.map((e, i) => {
                const s = suggestions[i] ?? { org: null, confidence: 0, kind: "none" as const };
                return { ...e, suggestion: s, org: s.org ?? "", accepted: s.org !== null && s.confidence >= 0.8 };
              }),
            );
          }}
        >
          Suggest
        </button>
      </div>
      {proposals && proposals.length > 0 && (
        <div className="table-wrap">
          <table className="suggestions">
            <TableHead columns={["Accept", "Entity", "Organization", "Confidence"]} />
            <tbody>
              {proposals.map((p, i) => (
                <tr key={`${p.line}-${i}`} data-entity={p.entity_id ?? ""}>
                  <td data-label="Accept">
                    <input
                      type="checkbox"
                      id={`sg-acc-${i}`}
                      aria-label={`Accept suggestion for ${p.entity_name ?? p.entity_id ?? `line ${p.line}`}`}
                      checked={p.accepted}
                      disabled={p.org === ""}
                      onChange={(e) => setProposals((ps) => (ps ?? []).map((x, j) => (j === i ? { ...x, accepted: e.target.checked } : x)))}
                    />
                  </td>
                  <td data-label="Entity">
                    <span className="mono">{p.entity_id ?? "—"}</span> · {p.entity_name ?? "—"}
                  </td>
                  <td data-label="Organization">
                    <label className="visually-hidden" htmlFor={`sg-org-${i}`}>
                      Organization for {p.entity_name ?? p.entity_id ?? `line ${p.line}`}
                    </label>
                    <select
                      id={`sg-org-${i}`}
                      value={p.org}
                      onChange={(e) => {
                        const org = e.target.value;
                        setProposals((ps) => (ps ?? []).map((x, j) => (j === i ? { ...x, org, accepted: org !== "" } : x)));
                      }}
                    >
                      <option value="">— none —</option>
                      {props.orgs.map((o) => (
                        <option key={o.slug} value={o.slug}>
                          {o.name} ({o.slug})
                        </option>
                      ))}
                    </select>
                  </td>
                  <td data-label="Confidence">
                    {p.org !== "" && p.org === p.suggestion.org ? (
                      <span className={`badge ${p.suggestion.kind === "exact" ? "ok" : p.suggestion.confidence >= 0.8 ? "info" : "warn"}`}>{confidenceLabel(p.suggestion)}</span>
                    ) : p.org !== "" ? (
                      <span className="badge muted">chosen</span>
                    ) : (
                      <span className="muted small">no match</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {proposals && (
        <div className="actions">
          <button
            type="button"
            disabled={accepted.length === 0}
            onClick={() => {
              props.onAdd(accepted.map((p) => `${p.org},${p.entity_id ?? ""},${p.entity_name ?? ""}`));
              setProposals(null);
              setText("");
            }}
          >
            Add {accepted.length} accepted row{accepted.length === 1 ? "" : "s"}
          </button>
        </div>
      )}
    </details>
  );
}

function BulkDialog(props: { integration: Integration; orgs: Org[]; onClose: () => void; onDone: () => Promise<void> }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const rows = parseBulk(text);
  const unknown = rows.filter((r) => !props.orgs.some((o) => o.slug === r.org));
  const suggestions = props.orgs.filter((o) => !rows.some((r) => r.org === o.slug));
  const rowIndex = typeof error?.details.row === "number" ? error.details.row : null;
  return (
    <Dialog title={`Map organizations to ${props.integration.name}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await api("POST", `/api/integrations/${enc(props.integration.name)}/mappings/bulk`, { rows: rows.map(({ line: _l, ...r }) => r) });
            await props.onDone();
            props.onClose();
          } catch (err) {
            setError(toApiError(err));
          }
        }}
      >
        <label htmlFor="bulk-text">
          One row per line: <code>org,entity_id,entity_name</code>
        </label>
        <textarea id="bulk-text" rows={8} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} placeholder={"acme,customer-123,Acme Corp\nglobex,customer-456,Globex"} />
        <p className="help">
          {rows.length} row{rows.length === 1 ? "" : "s"}
          {unknown.length > 0 && <span className="warn"> · unknown organization{unknown.length === 1 ? "" : "s"}: {unknown.map((r) => `${r.org} (line ${r.line})`).join(", ")}</span>}
        </p>
        <EntitySuggestions orgs={props.orgs} onAdd={(lines) => setText((t) => `${t}${t && !t.endsWith("\n") ? "\n" : ""}${lines.join("\n")}\n`)} />
        {suggestions.length > 0 && (
          <p className="help">
            Not listed yet:{" "}
            {suggestions.slice(0, 20).map((o) => (
              <button key={o.slug} type="button" className="link" onClick={() => setText((t) => `${t}${t && !t.endsWith("\n") ? "\n" : ""}${o.slug},,${o.name}\n`)}>
                + {o.slug}
              </button>
            ))}
          </p>
        )}
        {error && (
          <p className="field-error" role="alert">
            {rowIndex !== null && rows[rowIndex] ? `Line ${rows[rowIndex]?.line}: ` : ""}
            {error.message}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={rows.length === 0}>
            Save {rows.length} mapping{rows.length === 1 ? "" : "s"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

interface TestResult {
  org: string | null;
  url: string;
  auth: "oauth_bearer" | "none";
  status: number;
  latency_ms: number;
  content_type: string | null;
  bytes: number;
  truncated: boolean;
  body: string;
}

/** Platform admins: GET base_url + path on the server with the org's resolved auth; shows status, latency, the first 2 KB of the body. */
function TestConnection(props: { integration: Integration; orgs: Org[] }) {
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
            const r = await api<TestResult>("POST", `/api/integrations/${enc(props.integration.name)}/test-connection`, { path, ...(org ? { org } : {}) });
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
            <label htmlFor="tc-org">Organization</label>
            <select id="tc-org" value={org} onChange={(e) => setOrg(e.target.value)}>
              <option value="">(defaults, no organization)</option>
              {props.orgs.map((o) => (
                <option key={o.slug} value={o.slug}>
                  {o.name} ({o.slug})
                </option>
              ))}
            </select>
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

interface DetailData {
  integration: Integration;
  provider: OAuthProvider | null;
  mappings: Mapping[];
  orgs: Org[];
  connections: Connection[];
}

async function loadDetail(name: string): Promise<DetailData> {
  const base = `/api/integrations/${enc(name)}`;
  const [integration, mappings, orgs] = await Promise.all([
    api<Integration>("GET", base),
    api<{ mappings: Mapping[] }>("GET", `${base}/mappings`),
    api<{ organizations: Org[] }>("GET", "/api/organizations"),
  ]);
  let provider: OAuthProvider | null = null;
  let connections: Connection[] = [];
  try {
    provider = (await api<{ oauth: OAuthProvider }>("GET", `${base}/oauth`)).oauth;
    connections = (await api<{ connections: Connection[] }>("GET", `${base}/oauth/status`)).connections;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === "BIFROST_OAUTH_NO_PROVIDER")) throw e;
  }
  return { integration, provider, mappings: mappings.mappings, orgs: orgs.organizations, connections };
}

export function IntegrationDetailPage(props: { name: string; session: SessionInfo }) {
  const platform = props.session.role === "platform_admin";
  const { data, error, reload } = useLoad(() => loadDetail(props.name), [props.name]);
  const [overridesFor, setOverridesFor] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Mapping | null>(null);
  const [bulk, setBulk] = useState(false);
  if (error) return <FormError error={error} />;
  if (!data) return <p className="loading">Loading…</p>;
  const { integration, provider, mappings, orgs, connections } = data;
  const base = `/api/integrations/${enc(integration.name)}`;
  const overrideMapping = mappings.find((m) => m.org === overridesFor);
  const publicUrl = props.session.public_url ?? window.location.origin;
  return (
    <article>
      <p className="crumbs">
        <a href="#/integrations">Integrations</a> /
      </p>
      <div className="page-head">
        <h1>{integration.name}</h1>
      </div>
      {integration.description && <p>{integration.description}</p>}
      <SchemaEditor integration={integration} canEdit={platform} onSaved={reload} />
      <section aria-labelledby="defaults-h">
        <h2 id="defaults-h">Defaults</h2>
        <ConfigForm
          key={JSON.stringify(integration.defaults)}
          idPrefix="default"
          schema={integration.config_schema}
          values={integration.defaults}
          canEdit={platform}
          saveLabel="Save defaults"
          onSave={async (patch) => {
            await api("PATCH", `${base}/defaults`, patch);
            await reload();
          }}
        />
      </section>
      <OAuthSettings key={JSON.stringify(provider)} integration={integration} provider={provider} canEdit={platform} publicUrl={publicUrl} onSaved={reload} />
      <section aria-labelledby="mappings-h">
        <div className="page-head">
          <h2 id="mappings-h">Mappings</h2>
          <button type="button" onClick={() => setBulk(true)}>
            Bulk map…
          </button>
        </div>
        <div className="table-wrap">
          <table className="mappings">
            <TableHead columns={["Organization", "Entity id / name", "Overrides", "Connection", "Actions"]} />
            <tbody>
              {orgs.map((o) => (
                <MappingRow
                  key={o.slug}
                  integration={integration}
                  org={o}
                  mapping={mappings.find((m) => m.org === o.slug)}
                  connection={connections.find((c) => c.org === o.slug)}
                  provider={provider}
                  onChanged={reload}
                  onOverrides={() => setOverridesFor(o.slug)}
                  onRemove={() => setRemoving(mappings.find((m) => m.org === o.slug) ?? null)}
                />
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {platform && <TestConnection integration={integration} orgs={orgs} />}
      {overridesFor && (
        <Dialog title={`Overrides: ${integration.name} for ${overridesFor}`} onClose={() => setOverridesFor(null)} wide>
          <ConfigForm
            idPrefix={`ov-${overridesFor}`}
            schema={integration.config_schema}
            values={overrideMapping?.config ?? {}}
            defaults={integration.defaults}
            canEdit
            saveLabel="Save overrides"
            onCancel={() => setOverridesFor(null)}
            onSave={async (patch) => {
              await api("PATCH", `${base}/mappings/${enc(overridesFor)}/config`, patch);
              await reload();
              setOverridesFor(null);
            }}
          />
        </Dialog>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove the mapping for ${removing.org}?`}
          confirmLabel="Remove mapping"
          danger
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await api("DELETE", `${base}/mappings/${enc(removing.org)}`);
            await reload();
          }}
        >
          <p>
            This removes the mapping of <strong>{removing.org}</strong> (entity {removing.entity_id ?? "none"}) and its {Object.keys(removing.config).length} override
            {Object.keys(removing.config).length === 1 ? "" : "s"}.
          </p>
        </ConfirmDialog>
      )}
      {bulk && <BulkDialog integration={integration} orgs={orgs} onClose={() => setBulk(false)} onDone={reload} />}
    </article>
  );
}
