/**
 * Key rotation without downtime (as Vault transit does it: rotate → rewrap → retire). Every value names
 * its key id, and every key stays in the keyring until no value uses it, so reads never fail on the way:
 * - rotate: a new random key becomes active (new writes use it at once); the old keys still decrypt;
 * - rewrap: every registered ciphertext (storage/ciphertexts.ts) is re-encrypted under the active key,
 *   batch by batch, each batch its own transaction, resumable and safe with other rewrappers;
 * - retire: a key leaves the keyring file only when no value uses it.
 * Keyring canaries are per key (each proves its own key at start) and are never rewrapped. Fingerprints
 * (keyed from the active key) are recomputed with their values, so nothing derived from a retired key stays.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { KeyringKeyInUseError, KeyringKeyMissingError, NotFoundError, ValidationError } from "../core/errors.js";
import { readKeyringFile, serializeKeyring, withNewActiveKey, withoutKey, writeKeyringFileAtomic } from "../crypto/keyring-file.js";
import { CANARY_PLAINTEXT, canaryContext, type SecretContext } from "../crypto/secret-box.js";
import type { Deps } from "../kernel/deps.js";
import { CIPHERTEXT_COLUMNS, type CiphertextColumn, type CiphertextCount, type CiphertextRow } from "../storage/ciphertexts.js";
import type { Store } from "../storage/store.js";

/** The AAD context of one registered ciphertext (the same one its writer used). */
export function ciphertextContext(column: CiphertextColumn, row: CiphertextRow): SecretContext {
  return { tenant: row.tenant ?? "_", table: column.table, row: row.id, field: row.field };
}

const perKeyTables = new Set(CIPHERTEXT_COLUMNS.filter((c) => c.perKey).map((c) => `${c.table}.${c.column}`));
const isPerKey = (c: CiphertextCount): boolean => perKeyTables.has(`${c.table}.${c.column}`);

/** Values per key id (canaries not counted), every key of `kids` included with 0 when unused. */
function byKid(counts: readonly CiphertextCount[], kids: readonly string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kid of kids) out[kid] = 0;
  for (const c of counts) if (!isPerKey(c)) out[c.kid] = (out[c.kid] ?? 0) + c.count;
  return out;
}

export interface KeyringStatus {
  /** The key id new values are encrypted with. */
  active: string;
  /** Every key id in the keyring or in the database → how many stored values use it. */
  keys: Record<string, number>;
  /** The same per encrypted column (never values). */
  columns: CiphertextCount[];
}

export async function keyringStatus(deps: Deps): Promise<KeyringStatus> {
  const columns = (await deps.store.countCiphertexts()).filter((c) => !isPerKey(c));
  return { active: deps.box.activeKid, keys: byKid(columns, deps.box.kids), columns };
}

/**
 * Refuse to run when stored values use a key id `box` lacks: name each id, how many values use it and
 * what to do (at start-up of the server and of every CLI command, and before a reloaded keyring is used).
 */
export async function assertKeysPresent(store: Store, kids: readonly string[]): Promise<void> {
  const known = new Set(kids);
  const used = byKid(await store.countCiphertexts());
  const missing = Object.entries(used).filter(([kid, n]) => n > 0 && !known.has(kid));
  if (missing.length === 0) return;
  const list = missing.map(([kid, n]) => `"${kid}" (${n} value${n === 1 ? "" : "s"})`).join(", ");
  throw new KeyringKeyMissingError(
    `Stored values are encrypted with key(s) ${list} that the keyring does not hold, so they cannot be read. ` +
      `Start with a keyring that holds ${missing.map(([kid]) => kid).join(", ")} (restore the key from the keyring file's backup into BIFROST_KEYRING_FILE); ` +
      `a key may only be retired once \`bifrost keyring status\` shows 0 values for it. Refusing to start.`,
    { missing: Object.fromEntries(missing) },
  );
}

export interface RotateResult {
  /** The new active key id. */
  active: string;
  previous: string;
  kids: string[];
}

/**
 * Add a new random key to the keyring file `file` and make it active (the file is rewritten
 * atomically, mode 0600); `deps.box` must have been loaded from that file. New writes of this process
 * use the new key at once; a canary for it is stored.
 */
export async function rotateKeyring(deps: Deps, file: string, opts: { kid?: string } = {}): Promise<RotateResult> {
  const current = readKeyringFile(file);
  const next = withNewActiveKey(current, opts.kid);
  writeKeyringFileAtomic(file, serializeKeyring(next));
  deps.box.replaceKeyring(next);
  await deps.store.putCanary(next.active, deps.box.encrypt(CANARY_PLAINTEXT, canaryContext(next.active), next.active), deps.clock.now());
  return { active: next.active, previous: current.active, kids: [...next.keys.keys()] };
}

export interface RetireResult {
  retired: string;
  active: string;
  kids: string[];
}

/** Remove key `kid` from the keyring file, refused while it is active or any stored value uses it. */
export async function retireKey(deps: Deps, file: string, kid: string): Promise<RetireResult> {
  const current = readKeyringFile(file);
  if (!current.keys.has(kid)) throw new NotFoundError(`The keyring file ${file} has no key "${kid}" (it has ${[...current.keys.keys()].join(", ")}).`, { kid });
  if (kid === current.active) {
    throw new KeyringKeyInUseError(`Key "${kid}" is the active key: new values are encrypted with it. Run \`bifrost keyring rotate --file ${file}\` and \`bifrost keyring rewrap\` first.`, {
      kid,
      active: true,
    });
  }
  const columns = (await deps.store.countCiphertexts()).filter((c) => !isPerKey(c) && c.kid === kid && c.count > 0);
  const count = columns.reduce((n, c) => n + c.count, 0);
  if (count > 0) {
    throw new KeyringKeyInUseError(
      `Key "${kid}" still encrypts ${count} stored value(s) (${columns.map((c) => `${c.table}.${c.column}: ${c.count}`).join(", ")}). ` +
        `Run \`bifrost keyring rewrap\` until \`bifrost keyring status\` shows 0 for "${kid}", then retire it. Nothing was changed.`,
      { kid, count },
    );
  }
  const next = withoutKey(current, kid);
  writeKeyringFileAtomic(file, serializeKeyring(next));
  deps.box.replaceKeyring(next);
  await deps.store.deleteCanary(kid);
  return { retired: kid, active: next.active, kids: [...next.keys.keys()] };
}

export interface RewrapProgress {
  /** Values handled so far (rewrapped, superseded or failed). */
  done: number;
  /** Values not under the active key when the run started. */
  total: number;
  /** The column of the batch just committed. */
  table: string;
  column: string;
}

export interface RewrapResult {
  active: string;
  rewrapped: number;
  /** Values another writer changed during their batch (their write won, under their key). */
  superseded: number;
  /** Values that did not decrypt (tampered or copied rows): left as they are, by location, never value. */
  failed: Array<{ table: string; column: string; id: string }>;
  batches: number;
  /** Values still not under the active key after the run (other rewrappers' locked rows, failures, new writes by processes that have not reloaded). */
  remaining: Record<string, number>;
}

const DEFAULT_BATCH = 500;

/**
 * Re-encrypt every registered ciphertext that is not under the active key. Each batch is its own
 * transaction and writes only where the row still holds the value read, so a crash loses at most the
 * batch in flight and a rerun continues with what is left; several rewrappers share the work.
 * `onBatch` runs after each committed batch (progress; a throw stops the run there).
 */
export async function rewrapAll(deps: Deps, opts: { batch?: number; onBatch?: (p: RewrapProgress) => void } = {}): Promise<RewrapResult> {
  const limit = opts.batch ?? DEFAULT_BATCH;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ValidationError(`--batch must be a whole number from 1 to 10000; got ${String(opts.batch)}.`, { path: "--batch" });
  const { box, store } = deps;
  const active = box.activeKid;
  const before = await store.countCiphertexts();
  const total = before.filter((c) => !isPerKey(c) && c.kid !== active).reduce((n, c) => n + c.count, 0);
  const result: RewrapResult = { active, rewrapped: 0, superseded: 0, failed: [], batches: 0, remaining: {} };
  let done = 0;
  for (const column of CIPHERTEXT_COLUMNS) {
    if (column.perKey) continue;
    let after: string | null = null;
    for (;;) {
      const batch = await store.rewrapCiphertexts(column, { activeKid: active, limit, after }, (row) => {
        const ctx = ciphertextContext(column, row);
        try {
          const plain = box.decrypt(row.value, ctx);
          return { value: box.encrypt(plain, ctx, active), fingerprint: column.fingerprint ? box.fingerprint(plain, ctx) : null };
        } catch {
          return null;
        }
      });
      if (batch.claimed === 0) break;
      result.batches++;
      result.rewrapped += batch.rewrapped;
      result.superseded += batch.superseded;
      for (const id of batch.failed) result.failed.push({ table: column.table, column: column.column, id });
      done += batch.claimed;
      opts.onBatch?.({ done, total: Math.max(total, done), table: column.table, column: column.column });
      after = batch.last;
      if (batch.claimed < limit) break;
      // Let the process's other work (a server's requests) run between batches.
      await nextTurn();
    }
  }
  result.remaining = Object.fromEntries(Object.entries(byKid(await store.countCiphertexts())).filter(([kid, n]) => kid !== active && n > 0));
  return result;
}
