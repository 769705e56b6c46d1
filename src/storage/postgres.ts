import { CompiledQuery, Kysely, PostgresDialect, type Transaction } from "kysely";
import pg from "pg";
import { KyselyStore, LIST_FOR_ORG_SQL } from "./kysely-store.js";
import { compileNamed } from "./named-sql.js";
import type { Database } from "./schema.js";
import type { IntegrationSummaryRow, ResolveRows, Store } from "./store.js";

/**
 * PostgreSQL's resolve: one row per call, values aggregated into two JSON arrays (defaults, this
 * org's overrides), each from its own index. One row parses faster than one row per value.
 * $1 = org id, $2 = integration name.
 */
const RESOLVE_PG = `SELECT i.id AS i_id, i.name AS i_name, i.config_schema AS i_schema,
  m.id AS m_id, m.entity_id AS m_entity_id, m.entity_name AS m_entity_name,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id IS NULL) AS defaults,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id = $1) AS overrides
FROM integrations i
LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = $1
WHERE i.name = $2`;

type PackedValue = [id: string, key: string, value: string, isSecret: number, fingerprint: string | null, updatedAt: string];

interface ResolvePgRow {
  i_id: string;
  i_name: string;
  i_schema: string;
  m_id: string | null;
  m_entity_id: string | null;
  m_entity_name: string | null;
  defaults: PackedValue[] | null;
  overrides: PackedValue[] | null;
}

function unpack(row: ResolvePgRow | undefined, orgId: string | null): ResolveRows | null {
  if (!row) return null;
  const values = (list: PackedValue[] | null, owner: string | null) =>
    (list ?? []).map(([id, key, value, isSecret, fingerprint, updatedAt]) => ({
      id,
      integrationId: row.i_id,
      orgId: owner,
      key,
      value,
      isSecret: Number(isSecret) === 1,
      fingerprint,
      updatedAt,
    }));
  return {
    integration: { id: row.i_id, name: row.i_name, configSchema: row.i_schema },
    mapping: row.m_id === null ? null : { id: row.m_id, entityId: row.m_entity_id, entityName: row.m_entity_name },
    values: [...values(row.defaults, null), ...values(row.overrides, orgId)],
  };
}

/** Scale-out storage: PostgreSQL through a pg pool; several processes may share one database. */
export class PostgresStore extends KyselyStore {
  readonly dialect = "postgres" as const;
  readonly #pool: pg.Pool;

  private constructor(db: Kysely<Database> | Transaction<Database>, pool: pg.Pool) {
    super(db);
    this.#pool = pool;
  }

  static open(connectionString: string, opts: { max?: number } = {}): PostgresStore {
    const pool = new pg.Pool({ connectionString, max: opts.max ?? 10 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return new PostgresStore(db, pool);
  }

  protected withExecutor(trx: Transaction<Database>): Store {
    return new PostgresStore(trx, this.#pool);
  }

  async resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    if (!this.db.isTransaction) {
      // A named statement is parsed and planned once per connection.
      const res = await this.#pool.query<ResolvePgRow>({ name: "bifrost_resolve_v3", text: RESOLVE_PG, values: [orgId, integrationName] });
      return unpack(res.rows[0], orgId);
    }
    const res = await this.db.executeQuery<ResolvePgRow>(CompiledQuery.raw(RESOLVE_PG, [orgId, integrationName]));
    return unpack(res.rows[0], orgId);
  }

  async listForOrg(orgId: string | null): Promise<IntegrationSummaryRow[]> {
    const { sql, parameters } = compileNamed(LIST_FOR_ORG_SQL, { org: orgId }, "postgres");
    const res = await this.db.executeQuery<{ name: string; m_id: string | null; entity_id: string | null; entity_name: string | null }>(CompiledQuery.raw(sql, parameters));
    return res.rows.map((r) => ({ name: r.name, mapped: r.m_id !== null, entityId: r.entity_id, entityName: r.entity_name }));
  }

  async close(): Promise<void> {
    await (this.db as Kysely<Database>).destroy();
  }
}
