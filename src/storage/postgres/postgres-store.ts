import { Kysely, PostgresDialect as KyselyPostgresDialect } from "kysely";
import { KyselyStore } from "../kysely-store.js";
import { loadPg } from "./pg-driver.js";
import type { Database } from "../schema.js";
import { PostgresDialect } from "./postgres-dialect.js";
import { RefreshLane } from "./refresh-lane.js";

/** Scale-out storage: PostgreSQL through a pg pool; several processes may share one database. */
export class PostgresStore extends KyselyStore {
  static open(connectionString: string, opts: { max?: number } = {}): PostgresStore {
    const pool = new (loadPg().Pool)({ connectionString, max: opts.max ?? 10 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new KyselyPostgresDialect({ pool }) });
    const lane = new RefreshLane(connectionString, (lanePool, laneDb) => new PostgresDialect(lanePool, laneDb, null));
    return new PostgresStore(db, new PostgresDialect(pool, db, lane));
  }
}
