import { randomUUID } from "node:crypto";
import pg from "pg";
import BetterSqlite3 from "better-sqlite3";
import type { Bifrost } from "../src/host/bootstrap.js";
import { secretContext } from "../src/services/config-values.js";
import { createIntegration } from "../src/services/integrations.js";

export const ORGS = 1000;
export const INTEGRATIONS = 20;

export const SCHEMA = [
  { key: "base_url", type: "string", required: true },
  { key: "api_key", type: "secret", required: true },
  { key: "timeout", type: "int" },
  { key: "flags", type: "json" },
  { key: "verbose", type: "bool" },
  { key: "region", type: "string" },
];

export interface Dataset {
  orgs: Array<{ id: string; slug: string; name: string }>;
  integrations: string[];
}

type Row = Record<string, string | number | null>;

/**
 * 1,000 orgs × 20 integrations: each integration has 6 schema keys and 4 defaults (one secret);
 * every org is mapped to every integration with 2 overrides (base_url and the secret api_key).
 * Rows are bulk-inserted with real ciphertexts bound to their rows.
 */
export async function loadDataset(bf: Bifrost, raw: { sqlite?: BetterSqlite3.Database; pgUrl?: string }): Promise<Dataset> {
  const now = new Date().toISOString();
  const orgs = Array.from({ length: ORGS }, (_, i) => ({ id: randomUUID(), slug: `org-${i}`, name: `Org ${i}` }));
  const integrations: string[] = [];
  const mappings: Row[] = [];
  const values: Row[] = [];
  for (let j = 0; j < INTEGRATIONS; j++) {
    const name = `Integration${j}`;
    integrations.push(name);
    await createIntegration(bf, {
      name,
      configSchema: SCHEMA,
      defaults: { base_url: `https://api${j}.example.com`, api_key: `default-secret-${j}`, timeout: 30, flags: { beta: j % 2 === 0 } },
    });
  }
  const ids = new Map((await bf.store.listIntegrations()).map((i) => [i.name, i.id]));
  for (const org of orgs) {
    for (const name of integrations) {
      const integrationId = ids.get(name)!;
      mappings.push({ id: randomUUID(), integration_id: integrationId, org_id: org.id, entity_id: `${org.slug}-${name}`, entity_name: `${org.name} in ${name}`, created_at: now, updated_at: now });
      values.push({ id: randomUUID(), integration_id: integrationId, org_id: org.id, key: "base_url", value: JSON.stringify(`https://${org.slug}.example.com`), is_secret: 0, fingerprint: null, updated_at: now });
      const id = randomUUID();
      const plaintext = `secret-${org.slug}-${name}`;
      values.push({ id, integration_id: integrationId, org_id: org.id, key: "api_key", value: bf.box.encrypt(plaintext, secretContext({ id, orgId: org.id, key: "api_key" })), is_secret: 1, fingerprint: bf.box.fingerprint(plaintext, secretContext({ id, orgId: org.id, key: "api_key" })), updated_at: now });
    }
  }
  const orgRows: Row[] = orgs.map((o) => ({ ...o, created_at: now, updated_at: now }));
  if (raw.sqlite) {
    const db = raw.sqlite;
    const insert = (table: string, rows: Row[]) => {
      const cols = Object.keys(rows[0]!);
      const stmt = db.prepare(`INSERT INTO ${table} (${cols.join(",")}) VALUES (${cols.map((c) => `@${c}`).join(",")})`);
      db.transaction(() => rows.forEach((r) => stmt.run(r)))();
    };
    insert("organizations", orgRows);
    insert("mappings", mappings);
    insert("config_values", values);
  } else if (raw.pgUrl) {
    const client = new pg.Client({ connectionString: raw.pgUrl });
    await client.connect();
    const insert = async (table: string, rows: Row[]) => {
      const cols = Object.keys(rows[0]!);
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        const params: unknown[] = [];
        const tuples = chunk.map((r) => `(${cols.map((c) => { params.push(r[c]); return `$${params.length}`; }).join(",")})`);
        await client.query(`INSERT INTO ${table} (${cols.join(",")}) VALUES ${tuples.join(",")}`, params);
      }
    };
    await insert("organizations", orgRows);
    await insert("mappings", mappings);
    await insert("config_values", values);
    await client.query("ANALYZE");
    await client.end();
  }
  return { orgs, integrations };
}
