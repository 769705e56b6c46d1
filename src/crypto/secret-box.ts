import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { DecryptError, KeyringError } from "../core/errors.js";
import type { Keyring } from "./keyring.js";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a ciphertext is bound to: a copy in another tenant, table, row or field fails to decrypt. */
export interface SecretContext {
  /** Organization id, or "_" for integration-level values. */
  tenant: string;
  table: string;
  row: string;
  field: string;
}

function aad(kid: string, ctx: SecretContext): Buffer {
  return Buffer.from([VERSION, kid, ctx.tenant, ctx.table, ctx.row, ctx.field].join("|"), "utf8");
}

function describeContext(ctx: SecretContext): string {
  return `${ctx.table}/${ctx.row}/${ctx.field} (tenant ${ctx.tenant})`;
}

/**
 * AES-256-GCM field encryption. Stored form: `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts).
 * There is no plaintext fallback: anything else is rejected.
 */
export class SecretBox {
  #keyring: Keyring;
  readonly #fingerprintKeys = new Map<string, Buffer>();
  readonly #onUnknownKid: ((kid: string) => Buffer | null) | undefined;

  /**
   * `onUnknownKid` is asked for the key of a key id this box lacks when a ciphertext names one (a
   * value another process wrote after `bifrost keyring rotate`, before this one reloaded). A key it
   * returns is added for decryption only (GCM still authenticates every value); the active key stays.
   */
  constructor(keyring: Keyring, opts: { onUnknownKid?: (kid: string) => Buffer | null } = {}) {
    this.#keyring = keyring;
    this.#onUnknownKid = opts.onUnknownKid;
  }

  /**
   * Use `keyring` from now on (SIGHUP reload, rotate): new values are encrypted with its active key.
   * Values under a key id it does not hold no longer decrypt here.
   */
  replaceKeyring(keyring: Keyring): void {
    this.#keyring = keyring;
  }

  get activeKid(): string {
    return this.#keyring.active;
  }

  get kids(): string[] {
    return [...this.#keyring.keys.keys()];
  }

  encrypt(plaintext: string, ctx: SecretContext, kid = this.#keyring.active): string {
    const key = this.#keyring.keys.get(kid);
    if (!key) throw new KeyringError(`Key "${kid}" is not in the keyring.`);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(kid, ctx));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, kid, iv.toString("base64url"), ct.toString("base64url"), tag.toString("base64url")].join(".");
  }

  decrypt(stored: string, ctx: SecretContext): string {
    const parts = stored.split(".");
    if (parts.length !== 5 || parts[0] !== VERSION) {
      throw new DecryptError(`Stored secret at ${describeContext(ctx)} is not a ${VERSION} ciphertext; refusing to use it. Check the database for tampering.`, ctx as unknown as Record<string, unknown>);
    }
    const [, kid, ivB64, ctB64, tagB64] = parts as [string, string, string, string, string];
    const key = this.#keyring.keys.get(kid) ?? this.#newerKey(kid);
    if (!key) {
      throw new DecryptError(
        `Stored secret at ${describeContext(ctx)} was encrypted with key "${kid}", which is not in the keyring. Add that key back to the keyring file (a key is only removed by \`bifrost keyring retire\` once no value uses it).`,
        { ...ctx, kid },
      );
    }
    const iv = Buffer.from(ivB64, "base64url");
    const tag = Buffer.from(tagB64, "base64url");
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new DecryptError(`Stored secret at ${describeContext(ctx)} has a malformed IV or authentication tag; refusing to use it. Check the database for tampering.`, { ...ctx });
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(kid, ctx));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ctB64, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new DecryptError(
        `Stored secret at ${describeContext(ctx)} failed authentication: it was modified, copied from another row or organization, or encrypted with a different key. Investigate the database; the value was not used.`,
        { ...ctx },
      );
    }
  }

  #newerKey(kid: string): Buffer | undefined {
    const key = this.#onUnknownKid?.(kid);
    if (!key || key.length !== 32) return undefined;
    this.#keyring = { active: this.#keyring.active, keys: new Map([...this.#keyring.keys, [kid, key]]) };
    return key;
  }

  /**
   * Short, keyed fingerprint of a plaintext stored in one row: lets people see that a secret changed
   * without exposing it. Keyed with a key derived from the active key, so it cannot be brute-forced
   * offline from the database; bound to the row (tenant, table, row, field, like the AAD), so the same
   * value in two rows (a default and an override, two organizations) has different fingerprints and
   * nobody can confirm a guess of another level's secret by writing it and comparing (DESIGN.md §9.4).
   */
  fingerprint(plaintext: string, ctx: SecretContext): string {
    const kid = this.#keyring.active;
    let fk = this.#fingerprintKeys.get(kid);
    if (!fk) {
      const key = this.#keyring.keys.get(kid) as Buffer;
      fk = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), Buffer.from("bifrost fingerprint v2 (row-bound)"), 32));
      this.#fingerprintKeys.set(kid, fk);
    }
    const mac = createHmac("sha256", fk);
    // Length-prefixed parts: no two contexts share an encoding.
    for (const part of [ctx.tenant, ctx.table, ctx.row, ctx.field, plaintext]) {
      const b = Buffer.from(part, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.byteLength);
      mac.update(len).update(b);
    }
    return `hmac-sha256:${mac.digest("hex").slice(0, 16)}`;
  }
}

/**
 * Row-bound fingerprints have 16 hex digits; the earlier unbound ones had 12. Stored fingerprints that do
 * not match are recomputed at start (see services/fingerprints.ts).
 */
export function isRowBoundFingerprint(fingerprint: string | null): boolean {
  return fingerprint !== null && /^hmac-sha256:[0-9a-f]{16}$/.test(fingerprint);
}

/** A known plaintext encrypted per key id and stored in the database, checked at start. */
export const CANARY_PLAINTEXT = "bifrost-keyring-canary";

export function canaryContext(kid: string): SecretContext {
  return { tenant: "_", table: "keyring_canaries", row: kid, field: "value" };
}
