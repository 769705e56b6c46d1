/**
 * vitest global setup: with a PostgreSQL test server configured, migrate one template database for
 * the run, so each suite's database is a clone of it (CREATE DATABASE … TEMPLATE) instead of an empty
 * database migrated again; the suites' databases are dropped here at the end of the run, in one batch,
 * rather than one by one while the suites wait (on PostgreSQL 15 every DROP DATABASE forces a checkpoint).
 * Without a server URL this does nothing. Workers learn the names through the environment.
 */
import pg from "pg";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { PG_URL, TEST_DB_PREFIX } from "./backends.js";

const HOUR = 3_600_000;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Test databases whose name says they were created before `before` (left by a run that was killed). */
function stale(names: string[], before: number): string[] {
  return names.filter((n) => {
    const t = parseInt(n.slice(TEST_DB_PREFIX.length).split("_")[0] ?? "", 36);
    return Number.isFinite(t) && t < before;
  });
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (!PG_URL) return undefined;
  const run = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const template = `${TEST_DB_PREFIX}${run}_template`;
  const names = async (): Promise<string[]> =>
    admin(async (c) => (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${TEST_DB_PREFIX}%`])).rows.map((r) => r.datname));
  // Other runs may share the server: only databases older than a few hours are someone's leftovers.
  for (const name of stale(await names(), Date.now() - 6 * HOUR)) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  await admin((c) => c.query(`CREATE DATABASE ${template}`));
  const u = new URL(PG_URL);
  u.pathname = `/${template}`;
  const store = PostgresStore.open(u.toString());
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  process.env.BIFROST_TEST_PG_TEMPLATE = template;
  process.env.BIFROST_TEST_PG_RUN = run;
  return async () => {
    const mine = (await names()).filter((n) => n.startsWith(`${TEST_DB_PREFIX}${run}_`));
    // Concurrent drops share the checkpoints PostgreSQL forces for each.
    await Promise.all(mine.map((n) => admin((c) => c.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`))));
  };
}
