/**
 * Changing a keyring file in place (`bifrost keyring rotate` / `retire`): read it, add or remove one
 * key, write it back atomically (a temporary file in the same directory, fsync, rename, fsync of the
 * directory), mode 0600. A crash leaves either the old file or the new one, never a torn one.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { KeyringError, NotFoundError, ValidationError } from "../core/errors.js";
import { type Keyring, KID_PATTERN, parseKeyring } from "./keyring.js";

/** The JSON form `parseKeyring` reads, keys in insertion order. */
export function serializeKeyring(keyring: Keyring): string {
  const keys: Record<string, string> = {};
  for (const [kid, key] of keyring.keys) keys[kid] = key.toString("base64");
  return `${JSON.stringify({ active: keyring.active, keys }, null, 2)}\n`;
}

export function readKeyringFile(path: string): Keyring {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KeyringError(`Cannot read the keyring file ${path}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}.`, { path });
  }
  return parseKeyring(text, path);
}

/** Replace `path` with `text` atomically, mode 0600. */
export function writeKeyringFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new KeyringError(`Cannot write the keyring file ${path}: ${(err as NodeJS.ErrnoException).code ?? "unwritable"}. It was left unchanged.`, { path });
  }
  // The rename is durable once the directory entry is (not possible on every platform: best effort).
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Directories cannot be opened for fsync on some platforms; the rename itself has happened.
  }
}

/** `k<N+1>` after the highest `k<N>` in the keyring (k2 after k1); any other ids are skipped over. */
export function nextKid(keyring: Keyring): string {
  let max = 0;
  for (const kid of keyring.keys.keys()) {
    const m = /^k(\d{1,9})$/.exec(kid);
    if (m) max = Math.max(max, Number(m[1]));
  }
  let n = max + 1;
  while (keyring.keys.has(`k${n}`)) n++;
  return `k${n}`;
}

/** The keyring plus a new random 32-byte key, which becomes the active one. */
export function withNewActiveKey(keyring: Keyring, kid = nextKid(keyring)): Keyring {
  if (!KID_PATTERN.test(kid)) throw new ValidationError(`Key id ${JSON.stringify(kid)} is invalid: use 1-32 letters, digits, '_' or '-'.`, { path: "--kid" });
  if (keyring.keys.has(kid)) throw new ValidationError(`The keyring already has a key "${kid}"; pick another id (or leave --kid out for the next free one).`, { path: "--kid" });
  const keys = new Map(keyring.keys);
  keys.set(kid, randomBytes(32));
  return { active: kid, keys };
}

/** The keyring without `kid` (the caller has checked that nothing uses it and that it is not active). */
export function withoutKey(keyring: Keyring, kid: string): Keyring {
  if (!keyring.keys.has(kid)) {
    throw new NotFoundError(`The keyring has no key "${kid}" (it has ${[...keyring.keys.keys()].join(", ")}).`, { kid });
  }
  const keys = new Map(keyring.keys);
  keys.delete(kid);
  return { active: keyring.active, keys };
}
