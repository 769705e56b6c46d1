import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { KeyringError } from "../core/errors.js";

/** Key ids appear inside every ciphertext, so they are short and plain. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface Keyring {
  /** The key id new values are encrypted with. */
  readonly active: string;
  /** Every key that can decrypt, by id (32 bytes each). */
  readonly keys: ReadonlyMap<string, Buffer>;
}

export interface KeyringSource {
  keyring: Keyring;
  /** Where it came from, for start-up messages (never the key material). */
  origin: string;
  /** The file it was read from (reloadable on SIGHUP); absent for BIFROST_KEYRING. */
  path?: string;
}

/** Parse the JSON form `{ "active": "k1", "keys": { "k1": "<base64 of 32 bytes>" } }`. */
export function parseKeyring(text: string, origin: string): Keyring {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new KeyringError(`Keyring from ${origin} is not valid JSON. Expected {"active":"k1","keys":{"k1":"<base64 of 32 random bytes>"}}.`);
  }
  if (typeof data !== "object" || data === null) throw new KeyringError(`Keyring from ${origin} must be a JSON object with "active" and "keys".`);
  const { active, keys } = data as { active?: unknown; keys?: unknown };
  if (typeof keys !== "object" || keys === null || Array.isArray(keys) || Object.keys(keys).length === 0) {
    throw new KeyringError(`Keyring from ${origin} has no "keys" object; add at least one key id mapped to a base64 32-byte key.`);
  }
  const map = new Map<string, Buffer>();
  for (const [kid, b64] of Object.entries(keys as Record<string, unknown>)) {
    if (!KID_PATTERN.test(kid)) throw new KeyringError(`Keyring from ${origin}: key id ${JSON.stringify(kid)} is invalid (use 1-32 letters, digits, '_' or '-').`);
    const key = typeof b64 === "string" ? Buffer.from(b64, "base64") : Buffer.alloc(0);
    if (key.length !== 32) {
      throw new KeyringError(`Keyring from ${origin}: key "${kid}" must be base64 of exactly 32 bytes (AES-256); it decodes to ${key.length} bytes.`);
    }
    map.set(kid, key);
  }
  if (typeof active !== "string" || !map.has(active)) {
    throw new KeyringError(`Keyring from ${origin}: "active" must name one of the keys (${[...map.keys()].join(", ")}); got ${JSON.stringify(active)}.`);
  }
  return { active, keys: map };
}

export function generateKeyringJson(kid = "k1"): string {
  return `${JSON.stringify({ active: kid, keys: { [kid]: randomBytes(32).toString("base64") } }, null, 2)}\n`;
}

export interface LoadKeyringOptions {
  env: NodeJS.ProcessEnv;
  /** Path of the development keyring, used when neither variable is set. */
  devKeyringPath: string;
  /** May a development keyring be created when none exists? */
  allowCreateDev: boolean;
  /** Why not, for the error message when it may not. */
  refusalReason?: string;
  /** Called with a loud warning when the development keyring is used or created. */
  warn: (message: string) => void;
}

/**
 * Load the keyring from BIFROST_KEYRING_FILE, BIFROST_KEYRING, or the development keyring file.
 * BIFROST_KEYRING is removed from the environment after reading so child processes do not inherit it.
 */
export function loadKeyring(opts: LoadKeyringOptions): KeyringSource {
  const file = opts.env.BIFROST_KEYRING_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new KeyringError(`Cannot read BIFROST_KEYRING_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}.`);
    }
    return { keyring: parseKeyring(text, `BIFROST_KEYRING_FILE (${file})`), origin: `BIFROST_KEYRING_FILE (${file})`, path: file };
  }
  const inline = opts.env.BIFROST_KEYRING;
  if (inline) {
    delete opts.env.BIFROST_KEYRING;
    return { keyring: parseKeyring(inline, "BIFROST_KEYRING"), origin: "BIFROST_KEYRING" };
  }
  const dev = opts.devKeyringPath;
  if (existsSync(dev)) {
    opts.warn(`Using the DEVELOPMENT keyring ${dev}. Do not use it in production: set BIFROST_KEYRING_FILE to a keyring kept outside the data directory.`);
    return { keyring: parseKeyring(readFileSync(dev, "utf8"), dev), origin: `development keyring (${dev})`, path: dev };
  }
  if (!opts.allowCreateDev) {
    throw new KeyringError(
      `No keyring: set BIFROST_KEYRING_FILE (a file with {"active":"k1","keys":{"k1":"<base64 32 bytes>"}}) or BIFROST_KEYRING. ` +
        (opts.refusalReason ?? "A development keyring is not created here."),
    );
  }
  mkdirSync(dirname(dev), { recursive: true, mode: 0o700 });
  writeFileSync(dev, generateKeyringJson(), { mode: 0o600, flag: "wx" });
  chmodSync(dev, 0o600);
  opts.warn(
    `Created a DEVELOPMENT keyring at ${dev}. It is for local development only: anyone with this file can read every secret. ` +
      `For production set BIFROST_KEYRING_FILE and keep the keyring out of the data directory and out of backups of it.`,
  );
  return { keyring: parseKeyring(readFileSync(dev, "utf8"), dev), origin: `development keyring (${dev})`, path: dev };
}
