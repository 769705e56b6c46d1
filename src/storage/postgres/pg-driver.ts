import { createRequire } from "node:module";
import type pg from "pg";

let driver: typeof pg | undefined;

/**
 * The `pg` driver, loaded on first use (opening a PostgreSQL store): a process on the embedded
 * SQLite database never loads it. Synchronous, so `openStore` stays synchronous.
 */
export function loadPg(): typeof pg {
  driver ??= createRequire(import.meta.url)("pg") as typeof pg;
  return driver;
}
