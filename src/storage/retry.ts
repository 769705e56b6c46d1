import { DatabaseBusyError } from "./errors.js";

/**
 * PostgreSQL aborts one of two transactions that wait on each other (deadlock, 40P01) and, at
 * SERIALIZABLE / REPEATABLE READ, a transaction that read something another one changed (40001). Both
 * changed nothing, and running the transaction again is the documented remedy. Only transactions that
 * touch nothing but the database may be re-run (never one that called an OAuth provider).
 */
const TRANSIENT = new Set(["40001", "40P01"]);
const ATTEMPTS = 5;

function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT.has(code);
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Run `attempt` (one whole transaction) again after a deadlock or serialization failure, at most ATTEMPTS times. */
export async function retryTransient<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (n >= ATTEMPTS) {
        throw new DatabaseBusyError(
          `The database aborted this write ${ATTEMPTS} times because concurrent writes to the same rows kept colliding (${(err as { code: string }).code === "40P01" ? "deadlock" : "serialization failure"}); nothing was changed. Try again.`,
          { attempts: ATTEMPTS },
        );
      }
      // Jittered backoff so the colliding transactions do not meet again at once.
      await sleep(Math.random() * 5 * 2 ** n);
    }
  }
}
