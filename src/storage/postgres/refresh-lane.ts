import { Kysely, PostgresDialect as KyselyPostgresDialect } from "kysely";
import type pg from "pg";
import type { Dialect } from "../dialect.js";
import { KyselyStore } from "../kysely-store.js";
import type { Database } from "../schema.js";
import { loadPg } from "./pg-driver.js";

/** Lock transactions running at once per process; the lane's pool has one more connection for markers. */
const LANE_SLOTS = 4;

/**
 * The refresh lane: a small pool of its own for refresh-lock transactions and in-flight markers, so
 * a refresh never queues behind a storm of resolve queries on the main pool. At most LANE_SLOTS lock
 * transactions at once, on LANE_SLOTS + 1 connections: a lock holder always finds one for its marker.
 */
export class RefreshLane {
  readonly db: Kysely<Database>;
  readonly store: KyselyStore;
  #free = LANE_SLOTS;
  readonly #queue: Array<() => void> = [];

  /** `dialect` makes the lane's own (lane-less) dialect over the lane's pool. */
  constructor(connectionString: string, dialect: (pool: pg.Pool, db: Kysely<Database>) => Dialect) {
    const pool = new (loadPg().Pool)({ connectionString, max: LANE_SLOTS + 1 });
    pool.on("error", () => undefined);
    this.db = new Kysely<Database>({ dialect: new KyselyPostgresDialect({ pool }) });
    this.store = new KyselyStore(this.db, dialect(pool, this.db));
  }

  async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#queue.push(r));
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
