/**
 * Passphrase-sealed files (`bifrost export --with-secrets`): one JSON header line, then the AES-256-GCM
 * ciphertext of the payload followed by its 16-byte tag.
 *
 *   {"format":"bifrost-instance-export","version":1,"created_at":"…","kdf":{"name":"scrypt","n":131072,"r":8,"p":1,
 *    "salt":"<b64url 16 bytes>","check":"<b64url 32 bytes>"},"cipher":{"name":"aes-256-gcm","iv":"<b64url 12 bytes>"}}\n
 *   <ciphertext><tag>
 *
 * scrypt (Node's built-in) derives 64 bytes from the passphrase (Unicode NFC) and the salt: the first 32 are the
 * AES key, the last 32 key an HMAC whose value over a fixed label is `kdf.check`, so a wrong passphrase is told
 * apart from a modified file. The header bytes, newline included, are the GCM associated data: changing any
 * header byte (parameters, salt, IV, date) or any body byte fails authentication.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { ImportFileError, ImportPassphraseError, ImportTamperedError, PassphraseError } from "../core/errors.js";

const FORMAT = "bifrost-instance-export";
const VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CHECK_LABEL = "bifrost instance export v1: passphrase check";
/** The header is short; a first line longer than this is not ours. */
const MAX_HEADER_BYTES = 4096;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  n: number;
  r: number;
  p: number;
}

/** OWASP's scrypt recommendation (N=2^17, r=8, p=1): 128 MiB and about half a second per derivation. */
export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 17, r: 8, p: 1 };

/** What a file may ask for: below the floor is too weak to have been written by us, above the cap is a memory bomb. */
const LIMITS = { minN: 2 ** 14, maxN: 2 ** 20, maxR: 32, maxP: 4, maxMemory: 1024 * 1024 * 1024 };

export const MIN_PASSPHRASE_CHARS = 16;

interface Header {
  format: typeof FORMAT;
  version: number;
  created_at: string;
  kdf: { name: "scrypt"; n: number; r: number; p: number; salt: string; check: string };
  cipher: { name: "aes-256-gcm"; iv: string };
}

/** Refuse an empty or short passphrase (`source` names where it came from, never the value). */
export function checkPassphrase(passphrase: string, source: string): string {
  const normalized = passphrase.normalize("NFC");
  if (normalized.trim() === "") {
    throw new PassphraseError(`The passphrase in ${source} is empty. Put a long random passphrase in it, for example \`openssl rand -base64 32\`.`, { source });
  }
  const chars = [...normalized].length;
  if (chars < MIN_PASSPHRASE_CHARS) {
    throw new PassphraseError(
      `The passphrase in ${source} has ${chars} characters; use at least ${MIN_PASSPHRASE_CHARS} (a random one: \`openssl rand -base64 32\`). The file holds every secret of the instance and can be attacked offline.`,
      { source, minimum: MIN_PASSPHRASE_CHARS },
    );
  }
  return normalized;
}

function checkParams(p: ScryptParams): string | null {
  if (!Number.isSafeInteger(p.n) || p.n < LIMITS.minN || p.n > LIMITS.maxN || (p.n & (p.n - 1)) !== 0) return `n must be a power of two from ${LIMITS.minN} to ${LIMITS.maxN}`;
  if (!Number.isSafeInteger(p.r) || p.r < 1 || p.r > LIMITS.maxR) return `r must be 1 to ${LIMITS.maxR}`;
  if (!Number.isSafeInteger(p.p) || p.p < 1 || p.p > LIMITS.maxP) return `p must be 1 to ${LIMITS.maxP}`;
  if (128 * p.n * p.r > LIMITS.maxMemory) return `n × r needs more than ${LIMITS.maxMemory / 2 ** 20} MiB`;
  return null;
}

function derive(passphrase: string, salt: Buffer, p: ScryptParams): Promise<{ key: Buffer; check: Buffer }> {
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128·N·r bytes; leave headroom above it.
    scrypt(passphrase, salt, 64, { N: p.n, r: p.r, p: p.p, maxmem: 128 * p.n * p.r + 32 * 1024 * 1024 }, (err, out) => {
      if (err) return reject(err);
      const check = createHmac("sha256", out.subarray(32)).update(CHECK_LABEL).digest();
      resolve({ key: Buffer.from(out.subarray(0, 32)), check });
      out.fill(0);
    });
  });
}

/** Encrypt `plaintext` under `passphrase` (already checked with `checkPassphrase`). Returns the file's bytes. */
export async function sealWithPassphrase(plaintext: Buffer, passphrase: string, opts: { scrypt?: ScryptParams; now?: Date } = {}): Promise<Buffer> {
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const problem = checkParams(params);
  if (problem) throw new RangeError(`scrypt parameters: ${problem}`);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const { key, check } = await derive(passphrase, salt, params);
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    created_at: (opts.now ?? new Date()).toISOString(),
    kdf: { name: "scrypt", n: params.n, r: params.r, p: params.p, salt: salt.toString("base64url"), check: check.toString("base64url") },
    cipher: { name: "aes-256-gcm", iv: iv.toString("base64url") },
  };
  const head = Buffer.from(`${JSON.stringify(header)}\n`, "utf8");
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(head);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  return Buffer.concat([head, body]);
}

const b64 = (v: unknown, bytes: number): Buffer | null => {
  if (typeof v !== "string" || !/^[A-Za-z0-9_-]+$/.test(v)) return null;
  const buf = Buffer.from(v, "base64url");
  return buf.length === bytes ? buf : null;
};

/** Parse and bound the header; `file` names the file in messages. */
function readHeader(bytes: Buffer, file: string): { head: Buffer; header: Header; salt: Buffer; check: Buffer; iv: Buffer } {
  const nl = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
  const firstLine = bytes.subarray(0, nl < 0 ? Math.min(bytes.length, MAX_HEADER_BYTES) : nl).toString("latin1");
  if (!firstLine.includes(FORMAT)) {
    const plain = /^(#|organizations:|\{\s*$|\{\s*"organizations")/.test(firstLine);
    throw new ImportFileError(
      plain
        ? `${file} is a plain \`bifrost export\` (no secrets), not an export with secrets: apply it with \`bifrost apply ${file}\`.`
        : `${file} is not a Bifrost export with secrets (written by \`bifrost export --with-secrets\`).`,
      { file },
    );
  }
  const tampered = (what: string) =>
    new ImportTamperedError(`${file} is damaged or was modified after export (${what}). Nothing was imported; export again from the source instance.`, { file });
  if (nl < 0) throw tampered("the header line does not end");
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(0, nl).toString("utf8")) as Header;
  } catch {
    throw tampered("the header is not valid JSON");
  }
  if (typeof header !== "object" || header === null || header.format !== FORMAT) throw tampered("the header's format field");
  if (typeof header.version === "number" && header.version > VERSION && Number.isSafeInteger(header.version)) {
    throw new ImportFileError(`${file} was written in format version ${header.version} by a newer Bifrost; this one reads version ${VERSION}. Upgrade Bifrost on this instance first.`, { file, version: header.version });
  }
  if (header.version !== VERSION) throw tampered("the header's version field");
  const kdf = header.kdf;
  if (typeof kdf !== "object" || kdf === null || kdf.name !== "scrypt") throw tampered("the key-derivation parameters");
  const problem = checkParams({ n: kdf.n, r: kdf.r, p: kdf.p });
  if (problem) throw tampered(`scrypt parameters: ${problem}`);
  const salt = b64(kdf.salt, SALT_BYTES);
  const check = b64(kdf.check, 32);
  const iv = header.cipher?.name === "aes-256-gcm" ? b64(header.cipher.iv, IV_BYTES) : null;
  if (!salt || !check || !iv) throw tampered("the salt, check value or IV");
  if (bytes.length - (nl + 1) < TAG_BYTES) throw tampered("the file is truncated");
  return { head: bytes.subarray(0, nl + 1), header, salt, check, iv };
}

/**
 * Decrypt a sealed file. Wrong passphrase → ImportPassphraseError; any other change of the file →
 * ImportTamperedError (or ImportFileError when it is not such a file at all). Returns the plaintext.
 */
export async function openWithPassphrase(bytes: Buffer, passphrase: string, file: string, source: string): Promise<Buffer> {
  const { head, header, salt, check, iv } = readHeader(bytes, file);
  const { key, check: expected } = await derive(passphrase, salt, { n: header.kdf.n, r: header.kdf.r, p: header.kdf.p });
  try {
    if (!timingSafeEqual(expected, check)) {
      throw new ImportPassphraseError(
        `The passphrase in ${source} does not open ${file} (or the file's key-derivation header was modified). Nothing was imported; use the passphrase the file was exported with.`,
        { file, source },
      );
    }
    const body = bytes.subarray(head.length);
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(head);
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ImportTamperedError(
        `${file} failed authentication: it was modified or truncated after export (the passphrase is right). Nothing was imported; export again from the source instance.`,
        { file },
      );
    }
  } finally {
    key.fill(0);
  }
}
