/**
 * The demo data set of `bifrost dev --demo` (and of `npm run bench:console`): N organizations, four
 * integrations from the provider catalog — Microsoft Graph (authorization code, URLs templated by
 * {tenant}, tenant id captured from the id_token), Xero (authorization code, tenant id captured from
 * the token response), HaloPSA (client credentials, {tenant} URLs) and Hudu (API key, per-org config
 * and secrets) — and OAuth connections in every state: connected (tokens minted by the demo
 * authorization server, so they refresh for real), expiring soon, needs_reauth, error, not connected,
 * mapped without an entity id, and organizations with no mapping. The integrations go through `apply`
 * (`provider: ID` with the demo's URLs as explicit fields, which win over the catalog's); the rows are
 * written in one transaction.
 */
import { randomBytes } from "node:crypto";
import { DemoTargetNotEmptyError } from "../../core/errors.js";
import type { Mapping, Organization } from "../../core/types.js";
import type { Deps } from "../../kernel/deps.js";
import { emptyToken, tokenSecretContext } from "../../oauth/tokens.js";
import { refreshConnection } from "../../oauth/service.js";
import { applyText } from "../../services/apply.js";
import { secretContext } from "../../services/config-values.js";
import type { StoredConfigValue, StoredOAuthToken } from "../../storage/store.js";
import type { DemoAuthServer, DemoClient } from "./auth-server.js";

/** Default number of organizations of `bifrost dev --demo`. */
const DEMO_ORGS = 200;

interface DemoIntegration {
  name: string;
  provider: string;
  /** Client id at the demo authorization server (none: API-key integration). */
  clientId?: string;
  flow?: "authorization_code" | "client_credentials";
  authMethod?: DemoClient["authMethod"];
  scopes?: string[];
  /** The explicit oauth fields of the apply file (they win over the catalog entry's). */
  oauth?: (issuer: string) => Record<string, unknown>;
  tokenFields?: () => Record<string, string>;
}

/** The demo's integrations; names are what the console shows. */
export const DEMO_INTEGRATIONS: readonly DemoIntegration[] = [
  {
    name: "MicrosoftGraph",
    provider: "microsoft-graph",
    clientId: "demo-microsoft-graph",
    flow: "authorization_code",
    authMethod: "client_secret_basic",
    scopes: ["openid", "offline_access", "https://graph.microsoft.com/User.Read"],
    oauth: (iss) => ({ authorization_url: `${iss}/t/{tenant}/auth`, token_url: `${iss}/t/{tenant}/token` }),
  },
  {
    name: "Xero",
    provider: "xero",
    clientId: "demo-xero",
    flow: "authorization_code",
    authMethod: "client_secret_basic",
    scopes: ["openid", "profile", "email", "offline_access", "accounting.transactions", "accounting.contacts"],
    oauth: (iss) => ({
      authorization_url: `${iss}/auth`,
      token_url: `${iss}/token`,
      revocation_url: `${iss}/token/revocation`,
      entity_id_source: { type: "token_field", key: "xero_tenant_id" },
    }),
    tokenFields: () => ({ xero_tenant_id: uuidLike(randomBytes(16).toString("hex")) }),
  },
  {
    name: "HaloPSA",
    provider: "halopsa",
    clientId: "demo-halopsa",
    flow: "client_credentials",
    authMethod: "client_secret_post",
    scopes: ["all"],
    oauth: (iss) => ({ token_url: `${iss}/t/{tenant}/token`, url_defaults: { tenant: "demo-msp" } }),
  },
  { name: "Hudu", provider: "hudu" },
];

/** The demo authorization server's clients for these integrations, with fresh random secrets. */
export function demoClients(publicUrl: string): DemoClient[] {
  return DEMO_INTEGRATIONS.filter((d) => d.clientId).map((d) => ({
    clientId: d.clientId as string,
    clientSecret: randomBytes(24).toString("base64url"),
    redirectUris: d.flow === "authorization_code" ? [`${publicUrl}/api/oauth/callback/${d.name}`] : [],
    grantTypes: d.flow === "authorization_code" ? ["authorization_code", "refresh_token"] : ["client_credentials"],
    authMethod: d.authMethod ?? "client_secret_basic",
    ...(d.tokenFields ? { tokenFields: d.tokenFields } : {}),
  }));
}

/** Every scope the demo clients ask for (the authorization server must know them). */
export function demoScopes(): string[] {
  return [...new Set(DEMO_INTEGRATIONS.flatMap((d) => d.scopes ?? []))];
}

type DemoState = "connected" | "expiring_soon" | "needs_reauth" | "error" | "not_connected" | "no_entity_id" | "unmapped";

/** The state of org `i` in OAuth integration number `k`: a fixed spread (55 % connected, 5 % expiring soon, …). */
function demoState(i: number, k: number): DemoState {
  const b = (i * 7 + k * 5) % 20;
  if (b <= 10) return "connected";
  if (b === 11) return "expiring_soon";
  if (b === 12) return "needs_reauth";
  if (b === 13) return "error";
  if (b <= 16) return "not_connected";
  if (b <= 18) return "unmapped";
  return "no_entity_id";
}

export interface DemoSeedSummary {
  organizations: number;
  integrations: string[];
  mappings: number;
  /** OAuth token rows by state (connected includes expiring soon). */
  connections: Record<string, number>;
  ms: number;
}

const FIRST = ["Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka", "Soylent", "Cyberdyne", "Tyrell", "Aperture", "Oscorp", "Pied Piper", "Gringotts", "Monarch", "Dunder"];
const SECOND = ["Dental", "Logistics", "Legal", "Clinic", "Realty", "Accounting", "Builders", "Bakery", "Motors", "Insurance", "Architects", "Pharmacy", "Schools", "Hotels", "Foods", "Energy", "Media", "Labs", "Farms", "Travel"];

/** Name and slug of demo org `i` (unique for any i). */
export function demoOrgName(i: number): { slug: string; name: string } {
  const base = `${FIRST[i % FIRST.length]} ${SECOND[Math.floor(i / FIRST.length) % SECOND.length]}`;
  const round = Math.floor(i / (FIRST.length * SECOND.length));
  const name = round === 0 ? base : `${base} ${round + 1}`;
  return { name, slug: name.toLowerCase().replace(/[^a-z0-9]+/g, "-") };
}

function uuidLike(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The apply file of the demo integrations (client secrets through the environment, never in the text). */
function applyDocument(issuer: string): string {
  const lines = ["integrations:"];
  for (const d of DEMO_INTEGRATIONS) {
    lines.push(`  - name: ${d.name}`, `    provider: ${d.provider}`);
    if (d.name === "HaloPSA") lines.push(`    defaults: { tenant: demo-msp }`);
    if (!d.clientId || !d.oauth) continue;
    const oauth = { client_id: d.clientId, client_secret: `\${DEMO_SECRET_${d.name.toUpperCase()}}`, ...d.oauth(issuer) };
    lines.push(`    oauth: ${JSON.stringify(oauth)}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface SeedDemoOptions {
  /** How many organizations (default 200). */
  orgs?: number;
  /** The running demo authorization server (tokens of connected rows are minted there). */
  authServer: Pick<DemoAuthServer, "issuer" | "mint">;
  /** The clients it was started with (`demoClients`): their secrets go into the providers. */
  clients: readonly DemoClient[];
  /** OAuth options for the one real client-credentials grant (HaloPSA's integration-level token). */
  oauth?: { publicUrl: string };
}

/**
 * Seed an empty database with the demo data set. Refuses a database that already holds organizations
 * or integrations (nothing is changed then).
 */
export async function seedDemo(deps: Deps, opts: SeedDemoOptions): Promise<DemoSeedSummary> {
  const started = performance.now();
  const count = opts.orgs ?? DEMO_ORGS;
  const [orgs, integrations] = await Promise.all([deps.store.listOrgs(), deps.store.listIntegrations()]);
  if (orgs.length > 0 || integrations.length > 0) {
    throw new DemoTargetNotEmptyError(
      `The demo seeds an empty database, but this one already holds ${orgs.length} organization(s) and ${integrations.length} integration(s); nothing was changed. Unset BIFROST_HOME (the demo then uses ./.bifrost-demo, recreated on every start) or point it at an empty folder.`,
      { organizations: orgs.length, integrations: integrations.length },
    );
  }
  const env: Record<string, string> = {};
  for (const c of opts.clients) {
    const d = DEMO_INTEGRATIONS.find((x) => x.clientId === c.clientId);
    if (d) env[`DEMO_SECRET_${d.name.toUpperCase()}`] = c.clientSecret;
  }
  await applyText(deps, applyDocument(opts.authServer.issuer), "demo integrations", { env });
  const ids = new Map((await deps.store.listIntegrations()).map((x) => [x.name, x.id]));

  const now = new Date();
  const at = now.toISOString();
  const hours = (h: number) => new Date(now.getTime() + h * 3_600_000).toISOString();
  const newOrgs: Organization[] = [];
  const mappings: Mapping[] = [];
  const tokens: StoredOAuthToken[] = [];
  const values: StoredConfigValue[] = [];
  const connections: Record<string, number> = {};
  const codeIntegrations = DEMO_INTEGRATIONS.filter((d) => d.flow === "authorization_code");

  for (let i = 0; i < count; i++) {
    const org: Organization = { id: deps.clock.id(), ...demoOrgName(i), createdAt: at, updatedAt: at };
    newOrgs.push(org);
    for (const [k, d] of codeIntegrations.entries()) {
      const state = demoState(i, k);
      if (state === "unmapped") continue;
      const integrationId = ids.get(d.name) as string;
      const entityId = state === "no_entity_id" ? null : uuidLike(`${(i + 1).toString(16).padStart(8, "0")}${k.toString(16).padStart(4, "0")}${"0".repeat(20)}`);
      const mapping: Mapping = { id: deps.clock.id(), integrationId, orgId: org.id, entityId, entityName: entityId ? `${org.name} (${d.name})` : null, createdAt: at, updatedAt: at };
      mappings.push(mapping);
      if (state === "not_connected") continue;
      const row = emptyToken(deps.clock, integrationId, { orgId: org.id, mappingId: mapping.id });
      row.scopes = d.scopes ?? [];
      if (state === "needs_reauth") {
        Object.assign(row, { state: "needs_reauth", lastError: "invalid_grant: the refresh token was revoked or has expired; connect again.", lastRefreshAt: hours(-30 * 24) });
      } else {
        // connected, expiring soon, no entity id, error: real tokens at the demo authorization server.
        const ttlHours = state === "expiring_soon" ? 6 + (i % 60) : state === "error" ? 1 : 24 * (7 + ((i * 13) % 54));
        const minted = await opts.authServer.mint(d.clientId as string, `demo-account-${i}-${k}`, row.scopes.join(" "), ttlHours * 3600);
        Object.assign(row, {
          state: state === "error" ? "error" : "connected",
          accessToken: deps.box.encrypt(minted.accessToken, tokenSecretContext(row, "access_token")),
          refreshToken: deps.box.encrypt(minted.refreshToken, tokenSecretContext(row, "refresh_token")),
          tokenType: "Bearer",
          // The error rows' access token expired two hours ago and the last refresh failed.
          expiresAt: state === "error" ? hours(-2) : hours(ttlHours),
          obtainedAt: state === "error" ? hours(-3) : at,
          lastRefreshAt: state === "error" ? hours(-3) : at,
          ...(state === "error" ? { lastError: "transient: the token endpoint answered 503 (temporarily_unavailable); retrying with backoff.", failureCount: 3, nextAttemptAt: hours(6) } : {}),
        });
      }
      tokens.push(row);
      const key = state === "no_entity_id" || state === "expiring_soon" ? "connected" : state;
      connections[key] = (connections[key] ?? 0) + 1;
    }
    // Hudu (API key): 85 % of the orgs are mapped, each with its subdomain and its own secret API key.
    if (i % 20 < 17) {
      const integrationId = ids.get("Hudu") as string;
      mappings.push({ id: deps.clock.id(), integrationId, orgId: org.id, entityId: String(1000 + i), entityName: org.name, createdAt: at, updatedAt: at });
      values.push({ id: deps.clock.id(), integrationId, orgId: org.id, key: "subdomain", value: JSON.stringify(org.slug), isSecret: false, fingerprint: null, updatedAt: at });
      const id = deps.clock.id();
      const secret = `hudu_${randomBytes(16).toString("hex")}`;
      const ctx = secretContext({ id, orgId: org.id, key: "api_key" });
      values.push({ id, integrationId, orgId: org.id, key: "api_key", value: deps.box.encrypt(secret, ctx), isSecret: true, fingerprint: deps.box.fingerprint(secret, ctx), updatedAt: at });
    }
  }
  await deps.store.transaction(async (tx) => {
    for (const o of newOrgs) await tx.insertOrg(o);
    for (const m of mappings) await tx.insertMapping(m);
    for (const v of values) await tx.upsertConfigValue(v);
    for (const t of tokens) await tx.insertOAuthTokenIfAbsent(t);
    // HaloPSA's integration-level row, filled below by a real client-credentials grant.
    await tx.insertOAuthTokenIfAbsent(emptyToken(deps.clock, ids.get("HaloPSA") as string, { orgId: null, mappingId: null }));
  });
  // HaloPSA's integration-level token: one real client-credentials grant, through the product's path.
  if (opts.oauth) {
    await refreshConnection({ ...deps, oauth: { ...opts.oauth, allowHttpLoopback: true } }, { integration: "HaloPSA" });
    connections.connected = (connections.connected ?? 0) + 1;
  }
  return { organizations: count, integrations: DEMO_INTEGRATIONS.map((d) => d.name), mappings: mappings.length, connections, ms: Math.round(performance.now() - started) };
}
