import { CompiledQuery, Kysely, PostgresDialect, type Transaction } from "kysely";
import pg from "pg";
import { foldResolveRows, KyselyStore, LIST_FOR_ORG_SQL, RESOLVE_SQL, type ResolveFlatRow } from "./kysely-store.js";
import { compileNamed } from "./named-sql.js";
import type { Database } from "./schema.js";
import type { IntegrationSummaryRow, ResolveRows, Store } from "./store.js";

const RESOLVE = compileNamed(RESOLVE_SQL, { org: null, name: null }, "postgres").sql;

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
      const res = await this.#pool.query<ResolveFlatRow>({ name: "bifrost_resolve_v1", text: RESOLVE, values: [orgId, integrationName] });
      return foldResolveRows(res.rows);
    }
    const res = await this.db.executeQuery<ResolveFlatRow>(CompiledQuery.raw(RESOLVE, [orgId, integrationName]));
    return foldResolveRows(res.rows);
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
