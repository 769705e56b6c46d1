/**
 * Upgrading an existing database to the tenant rules (DESIGN.md §9.3, §9.4): migration 0005 refuses
 * entity ids that collide under the normalized rule (naming integration and mappings, changing nothing),
 * and start-up recomputes unbound fingerprints once, so equal values stop showing equal fingerprints.
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ConflictError, MigrationError } from "../../src/core/errors.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { PLATFORM_ACTOR } from "../../src/services/actor.js";
import { openBifrost } from "../../src/host/bootstrap.js";
import { plainValue } from "../../src/services/config-values.js";
import { refreshUnboundFingerprints } from "../../src/services/fingerprints.js";
import { createIntegration } from "../../src/services/integrations.js";
import { getStoredConfig, setConfig } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { InCodeMigrationProvider } from "../../src/storage/migrations.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import { BACKENDS, bootTest, createTestDatabase, tempDir } from "../helpers/backends.js";

/** A database migrated to 0004 only, with a raw query handle, and a way to open the real store on it. */
async function at0004(backend: "sqlite" | "postgres"): Promise<{ raw: Kysely<unknown>; open(): Store; cleanup(): Promise<void> }> {
  if (backend === "sqlite") {
    const t = tempDir();
    const file = join(t.dir, "bifrost.db");
    const raw = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    await new Migrator({ db: raw, provider: new InCodeMigrationProvider() }).migrateTo("0004_integration_trust");
    const stores: Store[] = [];
    return {
      raw,
      open: () => {
        const s = SqliteStore.open(file);
        stores.push(s);
        return s;
      },
      async cleanup() {
        for (const s of stores) await s.close();
        await raw.destroy();
        t.cleanup();
      },
    };
  }
  const db = await createTestDatabase();
  const raw = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }) });
  await new Migrator({ db: raw, provider: new InCodeMigrationProvider() }).migrateTo("0004_integration_trust");
  const stores: Store[] = [];
  return {
    raw,
    open: () => {
      const s = PostgresStore.open(db.url);
      stores.push(s);
      return s;
    },
    async cleanup() {
      for (const s of stores) await s.close();
      await raw.destroy();
      await db.drop();
    },
  };
}

const T = "2026-01-01T00:00:00.000Z";

for (const backend of BACKENDS) {
  describe(`migration 0005_entity_key (${backend.name})`, () => {
    let env: Awaited<ReturnType<typeof at0004>>;
    afterAll(async () => env?.cleanup());

    it("refuses colliding entity ids (naming integration and mappings, changing nothing); migrates once they are fixed", async () => {
      env = await at0004(backend.name);
      const { raw } = env;
      for (const o of ["o1", "o2", "o3", "o4"]) await sql`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES (${o}, ${o}, ${o}, ${T}, ${T})`.execute(raw);
      for (const [id, name] of [["i1", "Halo"], ["i2", "Other"]]) {
        await sql`INSERT INTO integrations (id, name, description, config_schema, created_at, updated_at) VALUES (${id}, ${name}, NULL, '[]', ${T}, ${T})`.execute(raw);
      }
      const rows: Array<[string, string, string, string]> = [
        ["map-halo-upper", "i1", "o1", "TENANT-ABC"],
        ["map-halo-dot", "i1", "o2", "tenant-abc."],
        ["map-halo-unique", "i1", "o3", "unique-one"],
        ["map-other-same", "i2", "o1", "tenant-abc"],
      ];
      for (const [id, integ, org, entity] of rows) {
        await sql`INSERT INTO mappings (id, integration_id, org_id, entity_id, entity_name, created_at, updated_at) VALUES (${id}, ${integ}, ${org}, ${entity}, NULL, ${T}, ${T})`.execute(raw);
      }

      for (let attempt = 0; attempt < 2; attempt++) {
        const err = await env.open().migrate().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MigrationError);
        const e = err as MigrationError;
        expect(e.code).toBe("BIFROST_MIGRATION_REFUSED");
        expect(e.message).toContain('integration "Halo": mappings map-halo-dot, map-halo-upper');
        expect(e.message).not.toMatch(/map-halo-unique|map-other-same|Other/);
        expect(e.details).toEqual({ collisions: [{ integration: "Halo", mappings: ["map-halo-dot", "map-halo-upper"] }] });
      }
      // Nothing changed: the old exact-match index is still there, no entity_key column, 0005 not recorded.
      const ids = (await sql<{ entity_id: string }>`SELECT entity_id FROM mappings ORDER BY id`.execute(raw)).rows.map((r) => r.entity_id);
      expect(ids).toEqual(["tenant-abc.", "unique-one", "TENANT-ABC", "tenant-abc"]);
      await expect(sql`SELECT entity_key FROM mappings`.execute(raw)).rejects.toThrow();

      await sql`UPDATE mappings SET entity_id = 'tenant-xyz' WHERE id = 'map-halo-dot'`.execute(raw);
      const store = env.open();
      // Later migrations (0010_connect_links, …) follow it.
      expect((await store.migrate()).applied[0]).toBe("0005_entity_key");
      const keys = (await sql<{ id: string; entity_key: string }>`SELECT id, entity_key FROM mappings ORDER BY id`.execute(raw)).rows;
      expect(keys).toEqual([
        { id: "map-halo-dot", entity_key: "tenant-xyz" },
        { id: "map-halo-unique", entity_key: "unique-one" },
        { id: "map-halo-upper", entity_key: "tenant-abc" },
        { id: "map-other-same", entity_key: "tenant-abc" },
      ]);
      // The backfilled keys are enforced: another spelling of a stored id collides.
      const clash = await store.insertMapping({ id: "new", integrationId: "i1", orgId: "o4", entityId: "Tenant-XYZ.", entityName: null, createdAt: T, updatedAt: T }).catch((e: unknown) => e);
      expect(clash).toBeInstanceOf(ConflictError);
      expect((clash as Error).message).toBe("This entity id is already mapped to another organization for this integration.");
    });
  });

  describe(`unbound fingerprints are recomputed at start (${backend.name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanups) await c();
    });

    it("equal values in two rows get different fingerprints after a restart; masked echo still keeps them; a second start writes nothing", async () => {
      const t = await bootTest(backend);
      cleanups.push(t.cleanup);
      const bf = t.bf;
      await createOrg(bf, { slug: "acme" });
      await createIntegration(bf, { name: "Api", configSchema: [{ key: "api_key", type: "secret" }], defaults: { api_key: "same-value" } });
      await setConfig(bf, "Api", "acme", { api_key: "same-value" }, {}, PLATFORM_ACTOR);
      await setOAuthProvider(bf, "Api", { flow: "client_credentials", client_id: "c", client_secret: "same-value", token_url: "https://id.example.com/token" }); // never called
      const integ = (await bf.store.getIntegrationByName("Api"))!;
      // What an earlier release stored: one unbound fingerprint for the same value everywhere.
      const legacy = "hmac-sha256:0123456789ab";
      for (const v of await bf.store.listConfigValues(integ.id)) {
        expect(await bf.store.setSecretFingerprint({ table: "config_values", id: v.id, integrationId: integ.id, ciphertext: v.value }, legacy)).toBe(true);
      }
      const p = (await bf.store.getOAuthProvider(integ.id))!;
      expect(await bf.store.setSecretFingerprint({ table: "oauth_providers", id: p.id, integrationId: integ.id, ciphertext: p.clientSecret }, legacy)).toBe(true);
      // A write conditioned on a ciphertext the row no longer holds does nothing.
      expect(await bf.store.setSecretFingerprint({ table: "oauth_providers", id: p.id, integrationId: integ.id, ciphertext: "v1.other" }, "hmac-sha256:ffffffffffff")).toBe(false);
      expect((await getStoredConfig(bf, "Api", null)).api_key).toEqual({ set: true, fingerprint: legacy });

      await openBifrost({ store: bf.store, env: { BIFROST_KEYRING: t.keyringJson, BIFROST_HOME: "/nonexistent-bifrost-home" }, allowCreateDevKeyring: false, warn: () => undefined });
      const def = (await getStoredConfig(bf, "Api", null)).api_key as { fingerprint: string };
      const over = (await getStoredConfig(bf, "Api", "acme")).api_key as { fingerprint: string };
      const client = (await bf.store.getOAuthProvider(integ.id))!.clientSecretFingerprint;
      for (const fp of [def.fingerprint, over.fingerprint, client]) expect(fp).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
      expect(new Set([def.fingerprint, over.fingerprint, client]).size).toBe(3);

      const echo = await setConfig(bf, "Api", "acme", { api_key: { set: true, fingerprint: over.fingerprint } }, {}, PLATFORM_ACTOR);
      expect(echo.change.unchanged).toEqual(["api_key"]);
      expect(await bf.store.hasUnboundFingerprints()).toBe(false);
      expect(await refreshUnboundFingerprints(bf.store, bf.box)).toEqual({ updated: 0, skipped: [] });
      for (const v of await bf.store.listConfigValues(integ.id)) expect(plainValue(bf.box, v)).toBe("same-value");
      // Only the OAuth client secret unbound again: the one start-up query finds it, and it is recomputed.
      const again = (await bf.store.getOAuthProvider(integ.id))!;
      expect(await bf.store.setSecretFingerprint({ table: "oauth_providers", id: again.id, integrationId: integ.id, ciphertext: again.clientSecret }, legacy)).toBe(true);
      expect(await bf.store.hasUnboundFingerprints()).toBe(true);
      expect(await refreshUnboundFingerprints(bf.store, bf.box)).toEqual({ updated: 1, skipped: [] });
      expect((await bf.store.getOAuthProvider(integ.id))!.clientSecretFingerprint).toBe(client);
    });
  });
}
