/** OAuth provider settings: callback URL with copy button, flow, client id, write-only client secret, URLs, scopes, auth method; remove. */
import { useState } from "react";
import { type ApiError, client, type Integration, type OAuthProvider, ok, toApiError } from "../api";
import type { paths } from "../api/schema.gen";
import { callbackUrl, maskedSecret, PROVIDER_FIELDS, type ProviderDraft, providerBody, providerDraft } from "../lib/provider";
import { ConfirmDialog, CopyButton, FieldError, FormError } from "../ui";

type ProviderPut = NonNullable<paths["/api/integrations/{name}/oauth"]["put"]["requestBody"]>["content"]["application/json"];

export function OAuthSettings(props: { integration: Integration; provider: OAuthProvider | null; canEdit: boolean; publicUrl: string; onSaved: () => Promise<void> }) {
  const p = props.provider;
  const [draft, setDraft] = useState<ProviderDraft>(() => providerDraft(p));
  const { flow, fields, scopes, method, secret } = draft;
  const edit = (patch: Partial<ProviderDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setSecret = (s: string | null) => edit({ secret: s });
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [removing, setRemoving] = useState(false);
  const callback = callbackUrl(props.publicUrl, props.integration.name);
  const masked = maskedSecret(p);
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
            // The form edits a subset of the provider settings; the rest is sent back as stored (providerBody).
            const body = providerBody(p, draft) as ProviderPut;
            try {
              await ok(client.PUT("/api/integrations/{name}/oauth", { params: { path: { name: props.integration.name } }, body }));
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
              <select id="oa-flow" value={flow} onChange={(e) => edit({ flow: e.target.value })}>
                <option value="authorization_code">authorization_code</option>
                <option value="client_credentials">client_credentials</option>
              </select>
              <FieldError error={error} fields={["flow"]} />
            </div>
            {PROVIDER_FIELDS.map((f) => (
              <div className="field" key={f}>
                <label htmlFor={`oa-${f}`}>{f}</label>
                <input id={`oa-${f}`} value={fields[f] ?? ""} onChange={(e) => edit({ fields: { ...fields, [f]: e.target.value } })} placeholder={f.endsWith("_url") ? "https://…/{entity_id}/…" : ""} />
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
              <input id="oa-scopes" value={scopes} onChange={(e) => edit({ scopes: e.target.value })} />
              <FieldError error={error} fields={["scopes"]} />
            </div>
            <div className="field">
              <label htmlFor="oa-method">Token auth method</label>
              <select id="oa-method" value={method} onChange={(e) => edit({ method: e.target.value })}>
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
            await ok(client.DELETE("/api/integrations/{name}/oauth", { params: { path: { name: props.integration.name } } }));
            await props.onSaved();
          }}
        >
          <p>This removes the provider settings and every stored OAuth token of {props.integration.name}.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
