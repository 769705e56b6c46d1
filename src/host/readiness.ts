import { BifrostError } from "../core/errors.js";
import type { SecretBox } from "../crypto/secret-box.js";
import type { Store } from "../storage/store.js";
import { verifyCanaries } from "./bootstrap.js";

/** One readiness check: passed, failed, or not run because an earlier one failed. */
type CheckState = "ok" | "failed" | "skipped";

export interface Readiness {
  ready: boolean;
  checks: { database: CheckState; migrations: CheckState; keyring: CheckState };
  /** Why not ready: a short reason with the error code, safe for an unauthenticated caller (no host, no secret). */
  reason?: string;
  /** The full message for the server's log (no secret: messages never carry one). */
  detail?: string;
}

/** How long the database may take to answer before the process counts as not ready. */
const DEFAULT_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): { code: string; message: string; reason?: string } {
  if (err instanceof BifrostError) {
    const reason = typeof err.details?.reason === "string" ? err.details.reason : undefined;
    return { code: err.code, message: err.message, ...(reason ? { reason } : {}) };
  }
  return { code: "BIFROST_INTERNAL", message: err instanceof Error ? err.message : String(err) };
}

/**
 * Is this process ready to serve (`GET /readyz`)? The database answers within the timeout, every
 * migration of this version is applied, and the keyring still decrypts the database's canaries.
 * Reads only; never throws.
 */
export async function checkReadiness(deps: { store: Store; box: SecretBox }, opts: { timeoutMs?: number } = {}): Promise<Readiness> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const checks: Readiness["checks"] = { database: "skipped", migrations: "skipped", keyring: "skipped" };
  let pending: string[];
  try {
    pending = (await withTimeout(deps.store.checkReadiness(), timeoutMs)).pendingMigrations;
    checks.database = "ok";
  } catch (err) {
    checks.database = "failed";
    const d = describe(err);
    return { ready: false, checks, reason: `database unavailable (${d.code}${d.reason ? `: ${d.reason}` : ""})`, detail: d.message };
  }
  if (pending.length > 0) {
    checks.migrations = "failed";
    return { ready: false, checks, reason: `migrations pending: ${pending.join(", ")} (run bifrost migrate)`, detail: `The database lacks migration(s) ${pending.join(", ")} of this version; run \`bifrost migrate\`.` };
  }
  checks.migrations = "ok";
  try {
    verifyCanaries(await withTimeout(deps.store.getCanaries(), timeoutMs), deps.box);
    checks.keyring = "ok";
  } catch (err) {
    const d = describe(err);
    if (d.code === "BIFROST_DATABASE_UNAVAILABLE") {
      checks.database = "failed";
      return { ready: false, checks, reason: `database unavailable (${d.code}${d.reason ? `: ${d.reason}` : ""})`, detail: d.message };
    }
    checks.keyring = "failed";
    return { ready: false, checks, reason: `keyring does not match the database (${d.code})`, detail: d.message };
  }
  return { ready: true, checks };
}
