import { describe, expect, it } from "vitest";
import { DecryptError, KeyringError } from "../../src/core/errors.js";
import { generateKeyringJson, loadKeyring, parseKeyring } from "../../src/crypto/keyring.js";
import { redactText } from "../../src/crypto/redact.js";
import { SecretBox, type SecretContext } from "../../src/crypto/secret-box.js";
import { tempDir } from "../helpers/backends.js";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const ctx: SecretContext = { tenant: "org-a", table: "config_values", row: "row-1", field: "api_key" };
const box = () => new SecretBox(parseKeyring(generateKeyringJson(), "test"));

describe("SecretBox", () => {
  it("round-trips with a random IV and the key id inside the value", () => {
    const b = box();
    const a1 = b.encrypt("hunter2", ctx);
    const a2 = b.encrypt("hunter2", ctx);
    expect(a1).not.toBe(a2);
    expect(a1.startsWith("v1.k1.")).toBe(true);
    expect(a1).not.toContain("hunter2");
    expect(b.decrypt(a1, ctx)).toBe("hunter2");
  });

  it.each<[string, Partial<SecretContext>]>([
    ["another tenant", { tenant: "org-b" }],
    ["another row", { row: "row-2" }],
    ["another field", { field: "password" }],
    ["another table", { table: "oauth_tokens" }],
  ])("refuses a ciphertext moved to %s", (_what, change) => {
    const b = box();
    const stored = b.encrypt("hunter2", ctx);
    expect(() => b.decrypt(stored, { ...ctx, ...change })).toThrowError(DecryptError);
  });

  it("rejects plaintext, flipped bits, truncated tags and unknown keys", () => {
    const b = box();
    const stored = b.encrypt("hunter2", ctx);
    expect(() => b.decrypt("hunter2", ctx)).toThrowError(/not a v1 ciphertext/);
    const parts = stored.split(".");
    const ct = Buffer.from(parts[3] as string, "base64url");
    ct[0] = (ct[0] as number) ^ 1;
    expect(() => b.decrypt([parts[0], parts[1], parts[2], ct.toString("base64url"), parts[4]].join("."), ctx)).toThrowError(DecryptError);
    const shortTag = Buffer.from(parts[4] as string, "base64url").subarray(0, 4).toString("base64url");
    expect(() => b.decrypt([parts[0], parts[1], parts[2], parts[3], shortTag].join("."), ctx)).toThrowError(/malformed/);
    expect(() => b.decrypt(["v1", "k9", parts[2], parts[3], parts[4]].join("."), ctx)).toThrowError(/"k9", which is not in the keyring/);
  });

  it("decrypts with an older key after a new active key is added", () => {
    const k1 = JSON.parse(generateKeyringJson("k1")) as { keys: Record<string, string> };
    const k2 = JSON.parse(generateKeyringJson("k2")) as { keys: Record<string, string> };
    const old = new SecretBox(parseKeyring(JSON.stringify({ active: "k1", keys: k1.keys }), "t"));
    const stored = old.encrypt("v", ctx);
    const both = new SecretBox(parseKeyring(JSON.stringify({ active: "k2", keys: { ...k1.keys, ...k2.keys } }), "t"));
    expect(both.decrypt(stored, ctx)).toBe("v");
    expect(both.encrypt("v", ctx).startsWith("v1.k2.")).toBe(true);
  });

  it("fingerprints are short, stable, keyed and bound to their row", () => {
    const b = box();
    expect(b.fingerprint("abc", ctx)).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
    expect(b.fingerprint("abc", ctx)).toBe(b.fingerprint("abc", { ...ctx }));
    expect(box().fingerprint("abc", ctx)).not.toBe(b.fingerprint("abc", ctx));
    for (const other of [{ ...ctx, row: "r2" }, { ...ctx, tenant: "org-2" }, { ...ctx, table: "oauth_providers" }, { ...ctx, field: "other" }]) {
      expect(b.fingerprint("abc", other)).not.toBe(b.fingerprint("abc", ctx));
    }
  });
});

describe("keyring", () => {
  it.each([
    ["not json", /not valid JSON/],
    ['{"active":"k1","keys":{}}', /no "keys"/],
    [JSON.stringify({ active: "k1", keys: { k1: Buffer.alloc(16).toString("base64") } }), /exactly 32 bytes.*16 bytes/],
    [JSON.stringify({ active: "k2", keys: { k1: Buffer.alloc(32).toString("base64") } }), /"active" must name one of the keys/],
  ])("rejects %s", (text, message) => {
    expect(() => parseKeyring(text, "test")).toThrowError(message);
    expect(() => parseKeyring(text, "test")).toThrowError(KeyringError);
  });

  it("removes BIFROST_KEYRING from the environment after reading it", () => {
    const env: NodeJS.ProcessEnv = { BIFROST_KEYRING: generateKeyringJson() };
    const { origin } = loadKeyring({ env, devKeyringPath: "/nonexistent/k.json", allowCreateDev: false, warn: () => undefined });
    expect(origin).toBe("BIFROST_KEYRING");
    expect(env.BIFROST_KEYRING).toBeUndefined();
  });

  it("creates a development keyring with mode 0600 and a loud warning, then reuses it", () => {
    const t = tempDir();
    try {
      const path = join(t.dir, "keyring.json");
      const warnings: string[] = [];
      loadKeyring({ env: {}, devKeyringPath: path, allowCreateDev: true, warn: (m) => warnings.push(m) });
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(warnings[0]).toMatch(/DEVELOPMENT keyring/);
      const again = loadKeyring({ env: {}, devKeyringPath: path, allowCreateDev: true, warn: (m) => warnings.push(m) });
      expect(again.keyring.keys.get("k1")?.toString("base64")).toBe(JSON.parse(readFileSync(path, "utf8")).keys.k1);
      expect(warnings[1]).toMatch(/Using the DEVELOPMENT keyring/);
    } finally {
      t.cleanup();
    }
  });

  it("refuses to invent a key when one is required", () => {
    expect(() => loadKeyring({ env: {}, devKeyringPath: "/nonexistent/k.json", allowCreateDev: false, warn: () => undefined })).toThrowError(/No keyring/);
  });
});

describe("redactText", () => {
  it("removes known secrets, bearer tokens, sensitive query values and API keys", () => {
    const key = `bfk_0123456789ab_${"A".repeat(43)}`;
    const out = redactText(`failed with s3cr3t-value; Authorization: Bearer abc.def; https://x/cb?code=xyz&state=st; ${key}`, ["s3cr3t-value"]);
    expect(out).not.toMatch(/s3cr3t-value|abc\.def|xyz|st;|AAAA/);
    expect(out).toContain("[REDACTED]");
  });
});
