/**
 * A large tenant set for the paginated lists: N organizations, three integrations (Halo:
 * authorization_code, Ninja: client_credentials, Plain: no OAuth provider), mappings and OAuth tokens
 * in every state, written through the store in one transaction. Returns the seed as plain data so
 * tests compute their expectations independently of the SQL under test.
 */
import type { Bifrost } from "../../src/host/bootstrap.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { emptyToken, tokenSecretContext } from "../../src/oauth/tokens.js";
import type { ConnectionRowView } from "../../src/services/connections.js";
import { createIntegration } from "../../src/services/integrations.js";
import type { OAuthTokenState, StoredOAuthToken } from "../../src/storage/store.js";

/** A row `GET /api/connections` should list (the service's row shape). */
export type SeedConnection = ConnectionRowView;

interface SeedOrg {
  id: string;
  slug: string;
  name: string;
}

export interface Seed {
  orgs: SeedOrg[];
  /** Every row /api/connections should list, in no particular order. */
  connections: SeedConnection[];
  /** Per Halo org: override count (for the integration organizations list). */
  haloOverrides: Map<string, number>;
  /** Plaintext tokens written (none may ever appear in an answer). */
  plaintexts: string[];
  /** A sample of stored ciphertexts (none may appear either). */
  ciphertexts: string[];
  /** When the seed was written (times in the seed are offsets from it). */
  at: number;
}

const DAY = 86_400_000;
const PREFIXES = ["alpha", "b-2", "bravo", "c9", "zulu-x", "m"];

/** Slugs in varied byte order (digits, hyphens, letters), unique by the number. */
const slugOf = (n: number) => `${PREFIXES[n % PREFIXES.length]}-${(n * 7919) % 10007}-${n}`;

export async function seedConnections(bf: Bifrost, n: number): Promise<Seed> {
  const at = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  await createIntegration(bf, { name: "Halo", configSchema: [{ key: "region", type: "string" }, { key: "tier", type: "int" }] });
  await createIntegration(bf, { name: "Ninja" });
  await createIntegration(bf, { name: "Plain" });
  await setOAuthProvider(bf, "Halo", { flow: "authorization_code", client_id: "halo", client_secret: "halo-client-secret", authorization_url: "https://login.example.com/authorize", token_url: "https://login.example.com/token" });
  await setOAuthProvider(bf, "Ninja", { flow: "client_credentials", client_id: "ninja", client_secret: "ninja-client-secret", token_url: "https://ninja.example.com/token" });
  const halo = (await bf.store.getIntegrationByName("Halo"))!;
  const ninja = (await bf.store.getIntegrationByName("Ninja"))!;
  const plain = (await bf.store.getIntegrationByName("Plain"))!;

  const seed: Seed = { orgs: [], connections: [], haloOverrides: new Map(), plaintexts: [], ciphertexts: [], at };
  await bf.store.transaction(async (tx) => {
    const now = iso(at);
    const token = async (
      integrationId: string,
      owner: { orgId: string | null; mappingId: string | null },
      label: string,
      fields: { state: OAuthTokenState; expiresAt: string | null; lastRefreshAt: string | null; lastError: string | null; refresh: boolean },
    ) => {
      const row: StoredOAuthToken = { ...emptyToken(bf.clock, integrationId, owner), state: fields.state, expiresAt: fields.expiresAt, lastRefreshAt: fields.lastRefreshAt, lastError: fields.lastError };
      const access = `AT-${label}-PLAINTEXT`;
      row.accessToken = bf.box.encrypt(access, tokenSecretContext(row, "access_token"));
      seed.plaintexts.push(access);
      if (seed.ciphertexts.length < 50) seed.ciphertexts.push(row.accessToken);
      if (fields.refresh) {
        const refresh = `RT-${label}-PLAINTEXT`;
        row.refreshToken = bf.box.encrypt(refresh, tokenSecretContext(row, "refresh_token"));
        seed.plaintexts.push(refresh);
      }
      await tx.insertOAuthTokenIfAbsent(row);
    };

    for (let i = 0; i < n; i++) {
      const org: SeedOrg = { id: bf.clock.id(), slug: slugOf(i), name: i % 10 === 3 ? `Contoso Branch ${i}` : `Org ${i}` };
      await tx.insertOrg({ ...org, createdAt: now, updatedAt: now });
      seed.orgs.push(org);

      // Halo: two thirds mapped (every seventh of those without entity id); tokens by i % 6.
      const mapped = i % 3 !== 0;
      const entityId = mapped && i % 7 !== 0 ? `T-${i}` : null;
      const entityName = entityId ? (i % 11 === 0 ? `Fabrikam ${i}` : `Tenant ${i}`) : null;
      const mappingId = mapped ? bf.clock.id() : null;
      if (mappingId) await tx.insertMapping({ id: mappingId, integrationId: halo.id, orgId: org.id, entityId, entityName, createdAt: now, updatedAt: now });
      let overrides = 0;
      if (mapped && i % 4 === 0) {
        for (const key of i % 8 === 0 ? ["region", "tier"] : ["region"]) {
          await tx.upsertConfigValue({ id: bf.clock.id(), integrationId: halo.id, orgId: org.id, key, value: JSON.stringify(key === "tier" ? 2 : "eu"), isSecret: false, fingerprint: null, updatedAt: now });
          overrides++;
        }
      }
      seed.haloOverrides.set(org.slug, overrides);
      const halfDay = DAY / 2;
      const kinds: Array<{ state: OAuthTokenState; expiresAt: string | null; lastRefreshAt: string | null; lastError: string | null; refresh: boolean } | null> = [
        null,
        { state: "connected", expiresAt: iso(at + ((i % 30) - 5) * DAY + halfDay), lastRefreshAt: iso(at - (i % 13) * 3_600_000), lastError: null, refresh: true },
        { state: "needs_reauth", expiresAt: iso(at - 2 * DAY), lastRefreshAt: iso(at - 3 * DAY - i * 1000), lastError: "invalid_grant: the provider rejected the refresh token", refresh: true },
        { state: "error", expiresAt: null, lastRefreshAt: null, lastError: "transient: HTTP 503", refresh: false },
        { state: "refreshing", expiresAt: iso(at + DAY + i * 1000), lastRefreshAt: iso(at - DAY), lastError: null, refresh: true },
        { state: "connected", expiresAt: null, lastRefreshAt: iso(at - 3_600_000), lastError: null, refresh: false },
      ];
      const kind = kinds[i % 6] ?? null;
      let haloToken = kind;
      if (kind) {
        // The mapping's token when mapped (org-level otherwise); mapped connected orgs also carry an org-level token the mapping's one outranks.
        await token(halo.id, mappingId ? { orgId: org.id, mappingId } : { orgId: org.id, mappingId: null }, `halo-${i}`, kind);
        if (mappingId && i % 6 === 1) await token(halo.id, { orgId: org.id, mappingId: null }, `halo-org-${i}`, { state: "error", expiresAt: null, lastRefreshAt: null, lastError: "shadowed", refresh: false });
      } else if (!mappingId && i % 9 === 0) {
        haloToken = { state: "not_connected", expiresAt: null, lastRefreshAt: null, lastError: null, refresh: false };
        await tx.insertOAuthTokenIfAbsent(emptyToken(bf.clock, halo.id, { orgId: org.id, mappingId: null }));
      }
      seed.connections.push({
        integration: "Halo",
        org: org.slug,
        org_name: org.name,
        mapped,
        entity_id: entityId,
        entity_name: entityName,
        flow: "authorization_code",
        state: haloToken?.state ?? "not_connected",
        expires_at: haloToken?.expiresAt ?? null,
        last_refresh_at: haloToken?.lastRefreshAt ?? null,
        last_error: haloToken?.lastError ?? null,
        has_refresh_token: haloToken?.refresh ?? false,
      });

      // Ninja: no mappings; every fourth org has a connected org-level token.
      const ninjaToken = i % 4 === 0 ? { state: "connected" as const, expiresAt: iso(at + (i % 10) * DAY + halfDay), lastRefreshAt: iso(at - (i % 17) * 60_000), lastError: null, refresh: false } : null;
      if (ninjaToken) await token(ninja.id, { orgId: org.id, mappingId: null }, `ninja-${i}`, ninjaToken);
      seed.connections.push({
        integration: "Ninja",
        org: org.slug,
        org_name: org.name,
        mapped: false,
        entity_id: null,
        entity_name: null,
        flow: "client_credentials",
        state: ninjaToken?.state ?? "not_connected",
        expires_at: ninjaToken?.expiresAt ?? null,
        last_refresh_at: ninjaToken?.lastRefreshAt ?? null,
        last_error: null,
        has_refresh_token: false,
      });
      // Plain has no provider: its mappings never make connection rows.
      if (i % 5 === 0) await tx.insertMapping({ id: bf.clock.id(), integrationId: plain.id, orgId: org.id, entityId: `P-${i}`, entityName: null, createdAt: now, updatedAt: now });
    }
    // Integration-level rows: Ninja connected, Halo never connected.
    const ninjaLevel = { state: "connected" as const, expiresAt: iso(at + 3 * DAY + DAY / 2), lastRefreshAt: iso(at - 60_000), lastError: null, refresh: false };
    await token(ninja.id, { orgId: null, mappingId: null }, "ninja-integration-level", ninjaLevel);
    const base = { org: null, org_name: null, mapped: false, entity_id: null, entity_name: null, last_error: null, has_refresh_token: false };
    seed.connections.push({ ...base, integration: "Ninja", flow: "client_credentials", state: "connected", expires_at: ninjaLevel.expiresAt, last_refresh_at: ninjaLevel.lastRefreshAt });
    seed.connections.push({ ...base, integration: "Halo", flow: "authorization_code", state: "not_connected", expires_at: null, last_refresh_at: null });
  });
  return seed;
}

type Sort = "integration" | "org" | "state" | "expires_at" | "last_refresh_at";

/** Byte order (the seed is ASCII, so UTF-16 order is byte order). */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The documented order of /api/connections, computed in memory. */
export function sortConnections(rows: readonly SeedConnection[], sort: Sort = "integration", order: "asc" | "desc" = "asc"): SeedConnection[] {
  const d = order === "asc" ? 1 : -1;
  const tail = (a: SeedConnection, b: SeedConnection) => d * (cmp(a.integration, b.integration) || cmp(a.org ?? "", b.org ?? ""));
  const time = (f: "expires_at" | "last_refresh_at") => (a: SeedConnection, b: SeedConnection) => {
    const an = a[f] === null ? 1 : 0;
    const bn = b[f] === null ? 1 : 0;
    return an - bn || d * cmp(a[f] ?? "", b[f] ?? "") || tail(a, b);
  };
  const by: Record<Sort, (a: SeedConnection, b: SeedConnection) => number> = {
    integration: tail,
    org: (a, b) => d * (cmp(a.org ?? "", b.org ?? "") || cmp(a.integration, b.integration)),
    state: (a, b) => d * cmp(a.state, b.state) || tail(a, b),
    expires_at: time("expires_at"),
    last_refresh_at: time("last_refresh_at"),
  };
  return [...rows].sort(by[sort]);
}
