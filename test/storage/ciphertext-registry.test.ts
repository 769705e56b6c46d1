/**
 * The registry of encrypted columns (src/storage/ciphertexts.ts) is what key rotation rewraps, counts
 * and checks at start, so a ciphertext outside it would keep an old key alive forever (and break after
 * `retire`). These tests fail when an encrypted column or a new kind of SecretContext appears without
 * joining the registry, and prove the registry's AAD is the one the writers use.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { completeAuthorization, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { createIntegration } from "../../src/services/integrations.js";
import { ciphertextContext } from "../../src/services/keyring.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { CIPHERTEXT_COLUMNS } from "../../src/storage/ciphertexts.js";
import type { ExecutorStore } from "../../src/storage/dialect.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { oauthDeps } from "../oauth/helpers/setup.js";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the registry of encrypted columns", () => {
  it("lists every kind of SecretContext built in src/ (table and field)", () => {
    const contexts: Array<{ file: string; table: string; field: string }> = [];
    for (const file of sourceFiles("src")) {
      const text = readFileSync(file, "utf8");
      // `field: expr` or the shorthand `field` (a parameter naming the field).
      for (const m of text.matchAll(/\{\s*tenant:[^{}]*?table:\s*"([a-z_]+)"[^{}]*?\bfield\b(?::\s*([^,}]+))?/g)) {
        contexts.push({ file, table: m[1] as string, field: (m[2] ?? "field").trim() });
      }
    }
    // The known writers: config values, provider secret, tokens, OAuth states, canaries.
    expect(contexts.length).toBeGreaterThanOrEqual(5);
    for (const c of contexts) {
      const literal = /^"([^"]+)"$/.exec(c.field)?.[1];
      const entries = CIPHERTEXT_COLUMNS.filter((e) => e.table === c.table);
      const covered = literal
        ? entries.some((e) => "name" in e.field && e.field.name === literal)
        : c.field === "field"
          ? entries.length > 0 && entries.every((e) => "name" in e.field)
          : entries.some((e) => "column" in e.field);
      expect(covered, `${c.file}: a SecretContext for ${c.table} (field ${c.field}) has no entry in src/storage/ciphertexts.ts`).toBe(true);
    }
  });
});

for (const backend of BACKENDS) {
  describe(`${backend.name}: every v1. value in the database is in a registered column`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let as: AuthServer;

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      as = await startAuthServer({ integrations: ["Halo"] });
      await createOrg(bf, { slug: "acme" });
      await createIntegration(bf, { name: "HaloPSA", configSchema: [{ key: "api_key", type: "secret" }, { key: "url", type: "string" }], defaults: { api_key: "d-secret", url: "v1.not.a.ciphertext" } });
      await setMapping(bf, "HaloPSA", "acme", { entityId: "c-1", config: { api_key: "acme-secret" } });
      await createIntegration(bf, { name: "Halo" });
      await setOAuthProvider(bf, "Halo", { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read"] });
      const started = await startAuthorization(oauthDeps(bf), { integration: "Halo", org: "acme", initiatorKeyId: null });
      await completeAuthorization(oauthDeps(bf), { integration: "Halo", query: (await driveAuthorization(started.authorizationUrl)).searchParams });
      await startAuthorization(oauthDeps(bf), { integration: "Halo", org: null, initiatorKeyId: null });
    });
    afterAll(async () => {
      await as?.close();
      await cleanup?.();
    });

    it("finds no ciphertext outside the registry, and each registered one decrypts with the registry's AAD", async () => {
      const db = (bf.store as unknown as ExecutorStore).db;
      const tables =
        backend.name === "sqlite"
          ? (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%'`.execute(db)).rows.map((r) => r.name)
          : (await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%'`.execute(db)).rows.map((r) => r.name);
      expect(tables).toContain("config_values");
      const found = new Set<string>();
      for (const table of tables) {
        const columns =
          backend.name === "sqlite"
            ? (await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(db)).rows.map((r) => r.name)
            : (await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${table}`.execute(db)).rows.map((r) => r.name);
        for (const column of columns) {
          const hits = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(table)} WHERE CAST(${sql.ref(column)} AS TEXT) LIKE 'v1.%'`.execute(db);
          if (Number(hits.rows[0]?.n ?? 0) > 0) found.add(`${table}.${column}`);
        }
      }
      const registered = new Set(CIPHERTEXT_COLUMNS.map((c) => `${c.table}.${c.column}`));
      for (const f of found) expect(registered.has(f), `${f} holds v1. values but is not in src/storage/ciphertexts.ts`).toBe(true);
      // Every registered column is exercised here (the JSON string "v1.not.a.ciphertext" is not a secret).
      expect([...found].sort()).toEqual([...registered].sort());

      let checked = 0;
      for (const column of CIPHERTEXT_COLUMNS) {
        // A batch that only reads: rewrap against a key id nobody uses returns each row unchanged (null).
        await bf.store.rewrapCiphertexts(column, { activeKid: "none", limit: 1000, after: null }, (row) => {
          expect(() => bf.box.decrypt(row.value, ciphertextContext(column, row)), `${column.table}.${column.column} ${row.id}`).not.toThrow();
          checked++;
          return null;
        });
      }
      expect(checked).toBeGreaterThanOrEqual(8);
    });
  });
}
