import { Kysely, PostgresDialect as KyselyPostgresDialect } from "kysely";
import type pg from "pg";
import type { Dialect } from "../dialect.js";
import { KyselyStore } from "../kysely-store.js";
import { HeldStatements } from "./held-statements.js";
import type { Database } from "../schema.js";
import { loadPg } from "./pg-driver.js";

/** Lock transactions running at once per process; the lane's pool has one more connection for markers. */
const LANE_SLOTS = 4;

/**
 * A Kysely bound to one connection on which the lane opened a transaction (BEGIN sent with the lock
 * statement, or held to ride with the body's first statement). It reports itself as a transaction, so
 * a store over it runs `transaction(fn)` in place and never sends a second BEGIN or an early COMMIT.
 */
class OpenTransaction extends Kysely<Database> {
  override get isTransaction(): boolean {
    return true;
  }
}

/** What `RefreshLane.onConnection` hands its callback. */
export interface LaneConnection {
  client: pg.PoolClient;
  /** A Kysely on `client` that counts as an open transaction; its statements go through `held`. */
  tx: Kysely<Database>;
  /** Statements held for the next round trip (appends, an opening BEGIN). */
  held: HeldStatements;
}

/**
 * The refresh lane: a small pool of its own for refresh-lock transactions and in-flight markers, so
 * a refresh never queues behind a storm of resolve queries on the main pool. At most LANE_SLOTS lock
 * transactions at once, on LANE_SLOTS + 1 connections: a lock holder always finds one for its marker.
 */
export class RefreshLane {
  readonly db: Kysely<Database>;
  readonly store: KyselyStore;
  readonly #pool: pg.Pool;
  #free = LANE_SLOTS;
  readonly #queue: Array<() => void> = [];

  /** `dialect` makes the lane's own (lane-less) dialect over the lane's pool. */
  constructor(connectionString: string, dialect: (pool: pg.Pool, db: Kysely<Database>) => Dialect) {
    // Refreshes are rare (a token's lifetime apart), so the default 10-second idle timeout would close
    // the lane before nearly every refresh and put a new connection (TCP, startup, authentication) on
    // its critical path. Two connections (a lock transaction and a marker) stay open; idle ones never
    // keep the process alive.
    const pool = new (loadPg().Pool)({ connectionString, max: LANE_SLOTS + 1, min: 2, allowExitOnIdle: true });
    pool.on("error", () => undefined);
    this.#pool = pool;
    this.db = new Kysely<Database>({ dialect: new KyselyPostgresDialect({ pool }) });
    this.store = new KyselyStore(this.db, dialect(pool, this.db));
  }

  #warmed = false;

  /**
   * Open the lane's two standing connections now, off any request's path (the dialect calls it when a
   * resolve first meets an OAuth provider): the first refresh of a process then spends its time on the
   * lock and the provider, not on TCP, startup and authentication twice in a row. Failures are left to
   * the refresh that follows (it reports them).
   */
  warm(): void {
    if (this.#warmed) return;
    this.#warmed = true;
    for (let i = 0; i < 2; i++) {
      this.#pool.connect().then(
        (c) => c.release(),
        () => void (this.#warmed = false),
      );
    }
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

  /**
   * Run `fn` on one lane connection (inside a slot) with the raw client, for statements sent as one
   * simple-protocol query (several statements, one round trip), and a Kysely bound to that connection
   * that counts as an open transaction (its statements go through `held`). A connection that failed
   * mid-way is destroyed, not reused (which also ends any lock its session held).
   */
  async onConnection<T>(fn: (c: LaneConnection) => Promise<T>): Promise<T> {
    return this.slot(async () => {
      const client = await this.#pool.connect();
      let broken = false;
      const held = new HeldStatements(client);
      const shared = { query: held.query, release: () => undefined };
      const tx = new OpenTransaction({ dialect: new KyselyPostgresDialect({ pool: { connect: async () => shared, end: async () => undefined } as never }) });
      try {
        return await fn({ client, tx, held });
      } catch (err) {
        broken = true;
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }
}
