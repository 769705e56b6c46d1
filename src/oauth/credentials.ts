import type { OAuthCredentials } from "../runtime/types.js";
import type { ResolveRows, StoredOAuthToken } from "../storage/store.js";
import type { ExecutionOrg } from "../runtime/types.js";
import { usesEntityPlaceholder } from "./provider-config.js";
import { withIntegrationPolicy } from "./options.js";
import { ensureFresh, type RefreshDeps } from "./refresh.js";
import { credentialsOf, emptyToken, loadProvider, ownerKey } from "./tokens.js";

/**
 * The credentials `integrations.get()` attaches: the mapping's token, else the org's, else the
 * integration's; refreshed first when expired or about to expire. Client-credentials tokens are
 * minted on first use, per entity when a URL uses {entity_id}, else once per integration.
 * Returns null when the integration has no provider or nothing is connected. The provider and the
 * candidate token rows come with the resolve query: no further read unless a refresh is due.
 */
export async function resolveCredentials(deps: RefreshDeps, rows: ResolveRows, org: ExecutionOrg | null): Promise<OAuthCredentials | null> {
  if (!rows.oauth) return null;
  const provider = loadProvider(deps.box, rows.oauth.provider);
  const candidates = rows.oauth.tokens;
  const integration = { id: rows.integration.id, name: rows.integration.name };
  const mapping = rows.mapping;
  let token: StoredOAuthToken | null = null;
  let entityId: string | null = null;

  if (provider.settings.flow === "client_credentials") {
    const perEntity = usesEntityPlaceholder(provider.settings) && mapping !== null && !!mapping.entityId && org !== null;
    const key = perEntity && mapping ? ownerKey.mapping(mapping.id) : ownerKey.integration();
    entityId = perEntity && mapping ? mapping.entityId : null;
    token = candidates.find((t) => t.ownerKey === key) ?? null;
    if (!token) {
      token = await deps.store.insertOAuthTokenIfAbsent(
        emptyToken(deps.clock, integration.id, perEntity && mapping && org ? { orgId: org.id, mappingId: mapping.id } : { orgId: null, mappingId: null }),
      );
    }
  } else {
    const keys = [...(mapping ? [ownerKey.mapping(mapping.id)] : []), ...(org ? [ownerKey.org(org.id)] : []), ownerKey.integration()];
    const found = candidates;
    for (const k of keys) {
      const t = found.find((r) => r.ownerKey === k && r.state !== "not_connected");
      if (t) {
        token = t;
        break;
      }
    }
    if (!token) return null;
    entityId = token.mappingId && mapping && token.mappingId === mapping.id ? mapping.entityId : null;
  }
  const fresh = await ensureFresh(withIntegrationPolicy(deps, rows.integration), { integration, provider, entityId }, token);
  return credentialsOf(deps.box, fresh, provider.settings.flow);
}
