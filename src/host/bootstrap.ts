import { join, resolve } from "node:path";
import { KeyringError } from "../core/errors.js";
import { type KeyringSource, loadKeyring } from "../crypto/keyring.js";
import { readKeyringFile } from "../crypto/keyring-file.js";
import { CANARY_PLAINTEXT, canaryContext, SecretBox } from "../crypto/secret-box.js";
import { describeStore, openStore } from "../storage/open.js";
import type { Store } from "../storage/store.js";
import { type Clock, systemClock } from "../kernel/clock.js";
import type { Deps } from "../kernel/deps.js";
import { refreshUnboundFingerprints } from "../services/fingerprints.js";
import { assertKeysPresent } from "../services/keyring.js";
import type { StoreResolver } from "./store-resolver.js";

export interface BootOptions {
  env?: NodeJS.ProcessEnv;
  /** Print warnings (development keyring). Defaults to stderr. */
  warn?: (message: string) => void;
  /** Create a development keyring when none is configured and the database holds no secrets yet. Default: only for SQLite. */
  allowCreateDevKeyring?: boolean;
  clock?: Clock;
  /** Use this store instead of opening one from the environment (tests). */
  store?: Store;
}

/** An opened instance without the workflow resolver: what most CLI commands need. */
export interface BifrostCore extends Deps {
  home: string;
  storeDescription: string;
  keyringOrigin: string;
  /**
   * Re-read the keyring file (SIGHUP, after `bifrost keyring rotate` or `retire`), check it against the
   * database like at start (keys in use present, canaries), and use it from now on; on any refusal the
   * current keyring stays. Returns the active key id (never key material).
   */
  reloadKeyring(): Promise<{ active: string; kids: string[] }>;
  close(): Promise<void>;
}

/** An opened instance with the resolver workflows and the server read integrations through. */
export interface Bifrost extends BifrostCore {
  resolver: StoreResolver;
}

export function bifrostHome(env: NodeJS.ProcessEnv): string {
  return resolve(env.BIFROST_HOME || ".bifrost");
}

/**
 * Check the keyring against the database: every key with a canary must decrypt it; keys without
 * one get one. Refuses (KeyringError) on a wrong or missing key instead of failing later per request.
 */
export async function checkCanaries(store: Store, box: SecretBox, clock: Clock): Promise<void> {
  const canaries = await store.getCanaries();
  verifyCanaries(canaries, box);
  const have = new Set(canaries.map((c) => c.kid));
  for (const kid of box.kids) {
    if (!have.has(kid)) await store.putCanary(kid, box.encrypt(CANARY_PLAINTEXT, canaryContext(kid), kid), clock.now());
  }
}

/** Every canary's key is in the keyring and decrypts it (KeyringError otherwise). Writes nothing. */
export function verifyCanaries(canaries: ReadonlyArray<{ kid: string; value: string }>, box: SecretBox): void {
  const known = new Set(box.kids);
  const missing = canaries.filter((c) => !known.has(c.kid)).map((c) => c.kid);
  if (missing.length > 0) {
    throw new KeyringError(
      `The keyring lacks key(s) ${missing.join(", ")} that this database was set up with, so its secrets cannot be read. ` +
        `Start with the keyring that holds ${missing.join(", ")} (BIFROST_KEYRING_FILE or BIFROST_KEYRING). Refusing to start.`,
      { missing },
    );
  }
  for (const c of canaries) {
    try {
      if (box.decrypt(c.value, canaryContext(c.kid)) !== CANARY_PLAINTEXT) throw new Error("canary mismatch");
    } catch {
      throw new KeyringError(
        `Keyring key "${c.kid}" does not match this database (its canary does not decrypt): this is the wrong key for "${c.kid}". ` +
          `Start with the keyring this database was created with. Refusing to start.`,
        { kid: c.kid },
      );
    }
  }
}

/**
 * A value under a key id this process lacks was written by a process that already runs with a newer
 * keyring file: re-read the file (at most once a second per id) for that key. SecretBox takes it for
 * decryption only; the active key changes only through the checked reload (SIGHUP) or a restart.
 */
function keyFromFile(path: string): (kid: string) => Buffer | null {
  const tried = new Map<string, number>();
  return (kid) => {
    const now = Date.now();
    if (now - (tried.get(kid) ?? -Infinity) < 1000) return null;
    tried.set(kid, now);
    try {
      return readKeyringFile(path).keys.get(kid) ?? null;
    } catch {
      return null;
    }
  };
}

async function reloadFrom(source: KeyringSource, store: Store, box: SecretBox, clock: Clock): Promise<{ active: string; kids: string[] }> {
  if (source.path === undefined) {
    throw new KeyringError(`The keyring came from BIFROST_KEYRING, which cannot be read again: restart the process to use a new keyring, or run it with BIFROST_KEYRING_FILE to reload on SIGHUP.`);
  }
  const next = readKeyringFile(source.path);
  const kids = [...next.keys.keys()];
  await assertKeysPresent(store, kids);
  await checkCanaries(store, new SecretBox(next), clock);
  box.replaceKeyring(next);
  return { active: next.active, kids };
}

/**
 * Open storage, apply migrations, load and verify the keyring. Loads neither the OAuth client nor
 * the resolver (commands that only read or write rows start faster); `openBifrost` adds them.
 */
export async function openCore(opts: BootOptions = {}): Promise<BifrostCore> {
  const env = opts.env ?? process.env;
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`\n  WARNING: ${m}\n\n`));
  const clock = opts.clock ?? systemClock;
  const home = bifrostHome(env);
  const location = { databaseUrl: env.DATABASE_URL || undefined, home };
  const store = opts.store ?? openStore(location, { notice: warn });
  try {
    await store.migrate();
    const hasSecrets = (await store.getCanaries()).length > 0;
    const source = loadKeyring({
      env,
      devKeyringPath: join(home, "keyring.json"),
      // A development keyring is a local file: fine for the embedded SQLite database, wrong for a shared
      // PostgreSQL database that other hosts' processes must read with the same key.
      allowCreateDev: (opts.allowCreateDevKeyring ?? !location.databaseUrl) && !hasSecrets,
      refusalReason: hasSecrets
        ? "The database already holds encrypted values, so a new key would not open them."
        : location.databaseUrl
          ? "With DATABASE_URL (PostgreSQL) every process needs the same key, so no development keyring is created; generate one with `bifrost keys generate-keyring`."
          : "A development keyring is not created here.",
      warn,
    });
    const box = new SecretBox(source.keyring, source.path === undefined ? {} : { onUnknownKid: keyFromFile(source.path) });
    await assertKeysPresent(store, box.kids);
    await checkCanaries(store, box, clock);
    const fingerprints = await refreshUnboundFingerprints(store, box);
    if (fingerprints.skipped.length > 0) {
      warn(`${fingerprints.skipped.length} stored secret(s) did not decrypt, so their fingerprints were left as they are (ids: ${fingerprints.skipped.slice(0, 10).join(", ")}).`);
    }
    return {
      store,
      box,
      clock,
      home,
      storeDescription: opts.store ? store.dialect : describeStore(location),
      keyringOrigin: source.origin,
      reloadKeyring: () => reloadFrom(source, store, box, clock),
      close: () => store.close(),
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** `openCore` plus the resolver (OAuth, caching): for the server, workflow runs and remote clients. */
export async function openBifrost(opts: BootOptions = {}): Promise<Bifrost> {
  const core = await openCore(opts);
  try {
    const { StoreResolver } = await import("./store-resolver.js");
    return { ...core, resolver: new StoreResolver(core.store, core.box, { clock: core.clock }) };
  } catch (err) {
    await core.close().catch(() => undefined);
    throw err;
  }
}
