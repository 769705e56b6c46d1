/**
 * `bifrost export --with-secrets`: the whole instance with every secret in plaintext, sealed under a
 * passphrase (src/crypto/sealed-file.ts). The plaintext exists only in memory: the caller gets the sealed
 * bytes. What moves: organizations, integrations (schema, trusted origins, private network), defaults,
 * mappings, overrides, OAuth providers with their client secrets, OAuth tokens (access/refresh, expiry,
 * scopes, owner level). What does not: API keys (credentials of the source instance), OAuth flows in
 * progress, OAuth events and webhook deliveries (history), keyring canaries (the target has its own).
 * Ids in the payload are the source's; they only link rows inside the file (the import makes new ones).
 */
import { type ConfigSchemaItemWire, toWireSchema } from "../core/config-schema.js";
import type { ConfigValue } from "../core/types.js";
import { type ScryptParams, sealWithPassphrase } from "../crypto/sealed-file.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import { providerSecretContext, tokenSecretContext } from "../oauth/tokens.js";
import type { Database } from "../storage/schema.js";
import type { OAuthTokenState, Store } from "../storage/store.js";
import type { SecretBox } from "../crypto/secret-box.js";
import { plainValue } from "./config-values.js";

/**
 * Every table of the schema and whether an instance move carries it. A new table is a type error here until
 * someone decides (and, when it holds ciphertexts, adds it to collect() and the import).
 */
export const MOVED_TABLES = {
  organizations: "moved",
  integrations: "moved",
  mappings: "moved",
  config_values: "moved (secrets re-encrypted for the target)",
  oauth_providers: "moved (client secret re-encrypted for the target)",
  oauth_tokens: "moved (access and refresh tokens re-encrypted for the target)",
  api_keys: "not moved: credentials to the source instance",
  keyring_canaries: "not moved: the target checks its own keyring",
  oauth_states: "not moved: authorizations in progress (10-minute, bound to the source)",
  oauth_events: "not moved: history",
  oauth_webhook_deliveries: "not moved: history",
  audit_log: "not moved: history of the source (the target records the import itself)",
  connect_links: "not moved: one-time URLs under the source's public URL (create new links on the target)",
} as const satisfies Record<keyof Database, string>;

export const PAYLOAD_FORMAT = "bifrost-instance-payload";
export const PAYLOAD_VERSION = 1;

interface MovedOrg {
  id: string;
  slug: string;
  name: string;
  created_at: string;
  updated_at: string;
}

interface MovedMapping {
  id: string;
  org_id: string;
  entity_id: string | null;
  entity_name: string | null;
  created_at: string;
  updated_at: string;
}

/** One config value: `org_id` null = default. Secrets in plaintext (`secret: true`). */
interface MovedValue {
  org_id: string | null;
  key: string;
  secret: boolean;
  value: ConfigValue;
  updated_at: string;
}

interface MovedProvider {
  flow: string;
  /** The stored provider settings (everything but the client secret). */
  settings: Record<string, unknown>;
  client_secret: string;
  created_at: string;
  updated_at: string;
}

/** One OAuth credential; its owner level follows from org_id / mapping_id (both null = integration level). */
interface MovedToken {
  org_id: string | null;
  mapping_id: string | null;
  state: OAuthTokenState;
  access_token: string | null;
  refresh_token: string | null;
  token_type: string | null;
  expires_at: string | null;
  obtained_at: string | null;
  scopes: string[];
  extra: Record<string, unknown>;
  last_refresh_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

interface MovedIntegration {
  id: string;
  name: string;
  description: string | null;
  config_schema: ConfigSchemaItemWire[];
  trusted_origins: string[];
  private_network: boolean;
  created_at: string;
  updated_at: string;
  mappings: MovedMapping[];
  values: MovedValue[];
  oauth_provider: MovedProvider | null;
  oauth_tokens: MovedToken[];
}

export interface InstancePayload {
  format: typeof PAYLOAD_FORMAT;
  version: typeof PAYLOAD_VERSION;
  /** The source's database kind, for the import report only. */
  source: { dialect: string };
  organizations: MovedOrg[];
  integrations: MovedIntegration[];
}

/** What an export or import moved (numbers only: safe to print and to audit). */
export interface MoveCounts {
  organizations: number;
  integrations: number;
  mappings: number;
  values: number;
  secrets: number;
  oauth_providers: number;
  oauth_tokens: number;
}

export function countPayload(p: InstancePayload): MoveCounts {
  const sum = (f: (i: MovedIntegration) => number) => p.integrations.reduce((n, i) => n + f(i), 0);
  return {
    organizations: p.organizations.length,
    integrations: p.integrations.length,
    mappings: sum((i) => i.mappings.length),
    values: sum((i) => i.values.length),
    secrets: sum((i) => i.values.filter((v) => v.secret).length + (i.oauth_provider ? 1 : 0) + i.oauth_tokens.reduce((n, t) => n + (t.access_token ? 1 : 0) + (t.refresh_token ? 1 : 0), 0)),
    oauth_providers: sum((i) => (i.oauth_provider ? 1 : 0)),
    oauth_tokens: sum((i) => i.oauth_tokens.length),
  };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Read the whole instance, decrypting every secret with this instance's keyring. A value that does not
 * decrypt stops the export (DecryptError): a partial move would lose it silently.
 */
export function collectInstance(deps: Deps): Promise<InstancePayload> {
  // One read transaction: on SQLite one snapshot; PostgreSQL (READ COMMITTED) gives each query its own, so
  // docs/operations.md says to stop writers when the copy must be exact.
  return deps.store.transaction((store) => collect(store, deps.box));
}

async function collect(store: Store, box: SecretBox): Promise<InstancePayload> {
  const orgs = [...(await store.listOrgs())].sort((a, b) => byText(a.slug, b.slug));
  const integrations = [...(await store.listIntegrations())].sort((a, b) => byText(a.name, b.name));
  const out: InstancePayload = {
    format: PAYLOAD_FORMAT,
    version: PAYLOAD_VERSION,
    source: { dialect: store.dialect },
    organizations: orgs.map((o) => ({ id: o.id, slug: o.slug, name: o.name, created_at: o.createdAt, updated_at: o.updatedAt })),
    integrations: [],
  };
  for (const integ of integrations) {
    const provider = await store.getOAuthProvider(integ.id);
    out.integrations.push({
      id: integ.id,
      name: integ.name,
      description: integ.description,
      config_schema: toWireSchema(integ.configSchema),
      trusted_origins: [...integ.trustedOrigins],
      private_network: integ.privateNetwork,
      created_at: integ.createdAt,
      updated_at: integ.updatedAt,
      mappings: (await store.listMappings({ integrationId: integ.id })).map((m) => ({
        id: m.id,
        org_id: m.orgId,
        entity_id: m.entityId,
        entity_name: m.entityName,
        created_at: m.createdAt,
        updated_at: m.updatedAt,
      })),
      values: (await store.listConfigValues(integ.id)).map((v) => ({ org_id: v.orgId, key: v.key, secret: v.isSecret, value: plainValue(box, v), updated_at: v.updatedAt })),
      oauth_provider: provider
        ? {
            flow: provider.flow,
            settings: JSON.parse(provider.settings) as Record<string, unknown>,
            client_secret: box.decrypt(provider.clientSecret, providerSecretContext(provider.id)),
            created_at: provider.createdAt,
            updated_at: provider.updatedAt,
          }
        : null,
      oauth_tokens: (await store.listOAuthTokens({ integrationId: integ.id })).map((t) => ({
        org_id: t.orgId,
        mapping_id: t.mappingId,
        state: t.state,
        access_token: t.accessToken === null ? null : box.decrypt(t.accessToken, tokenSecretContext(t, "access_token")),
        refresh_token: t.refreshToken === null ? null : box.decrypt(t.refreshToken, tokenSecretContext(t, "refresh_token")),
        token_type: t.tokenType,
        expires_at: t.expiresAt,
        obtained_at: t.obtainedAt,
        scopes: [...t.scopes],
        extra: t.extra,
        last_refresh_at: t.lastRefreshAt,
        last_error: t.lastError,
        created_at: t.createdAt,
        updated_at: t.updatedAt,
      })),
    });
  }
  return out;
}

/**
 * The sealed export file's bytes and what it holds. The payload's JSON is built in memory, encrypted, and
 * its buffer zeroed; only ciphertext leaves this function.
 */
export async function exportWithSecrets(deps: Deps, passphrase: string, opts: { scrypt?: ScryptParams } = {}): Promise<{ bytes: Buffer; counts: MoveCounts }> {
  const payload = await collectInstance(deps);
  const plaintext = Buffer.from(JSON.stringify(payload), "utf8");
  try {
    const bytes = await sealWithPassphrase(plaintext, passphrase, { ...(opts.scrypt ? { scrypt: opts.scrypt } : {}), now: new Date(deps.clock.now()) });
    const counts = countPayload(payload);
    await recordAudit(deps, "export.with_secrets", { detail: { ...counts } });
    return { bytes, counts };
  } finally {
    plaintext.fill(0);
  }
}
