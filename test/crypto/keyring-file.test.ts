import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DecryptError } from "../../src/core/errors.js";
import { generateKeyringJson, parseKeyring } from "../../src/crypto/keyring.js";
import { nextKid, readKeyringFile, serializeKeyring, withNewActiveKey, withoutKey, writeKeyringFileAtomic } from "../../src/crypto/keyring-file.js";
import { SecretBox, type SecretContext } from "../../src/crypto/secret-box.js";
import { tempDir } from "../helpers/backends.js";

const ctx: SecretContext = { tenant: "org-a", table: "config_values", row: "r1", field: "api_key" };

describe("keyring file changes (rotate / retire)", () => {
  const tmp = tempDir("bifrost-keyring-file-");
  afterAll(() => tmp.cleanup());

  it("adds a new random active key after the highest k<N>, keeping the others", () => {
    const k1 = parseKeyring(generateKeyringJson("k1"), "test");
    expect(nextKid(k1)).toBe("k2");
    const k2 = withNewActiveKey(k1);
    expect(k2.active).toBe("k2");
    expect([...k2.keys.keys()]).toEqual(["k1", "k2"]);
    expect(k2.keys.get("k1")?.equals(k1.keys.get("k1") as Buffer)).toBe(true);
    expect(k2.keys.get("k2")).toHaveLength(32);
    expect(k2.keys.get("k2")?.equals(k1.keys.get("k1") as Buffer)).toBe(false);
    expect(nextKid(withNewActiveKey(k2, "prod-2026"))).toBe("k3");
    expect(() => withNewActiveKey(k2, "k1")).toThrow(/already has a key "k1"/);
    expect(() => withNewActiveKey(k2, "bad id!")).toThrow(/invalid/);
    expect(() => withoutKey(k2, "k7")).toThrow(/no key "k7"/);
    expect([...withoutKey(k2, "k1").keys.keys()]).toEqual(["k2"]);
  });

  it("rewrites the file atomically with mode 0600, leaving no temporary file, and round-trips", () => {
    const file = join(tmp.dir, "keyring.json");
    writeFileSync(file, generateKeyringJson("k1"));
    chmodSync(file, 0o644);
    const next = withNewActiveKey(readKeyringFile(file));
    writeKeyringFileAtomic(file, serializeKeyring(next));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp.dir)).toEqual(["keyring.json"]);
    const back = readKeyringFile(file);
    expect(back.active).toBe("k2");
    expect([...back.keys].map(([k, v]) => [k, v.toString("hex")])).toEqual([...next.keys].map(([k, v]) => [k, v.toString("hex")]));
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ active: "k2" });
  });

  it("refuses to write into a missing directory, naming the file, and leaves nothing behind", () => {
    const file = join(tmp.dir, "missing", "keyring.json");
    expect(() => writeKeyringFileAtomic(file, "{}")).toThrow(/Cannot write the keyring file .*ENOENT/);
  });
});

describe("SecretBox with a key id it lacks", () => {
  it("takes the key from onUnknownKid for decryption only; the active key stays", () => {
    const old = parseKeyring(generateKeyringJson("k1"), "test");
    const rotated = withNewActiveKey(old);
    const writer = new SecretBox(rotated);
    const stored = writer.encrypt("s3cret", ctx);
    expect(stored.startsWith("v1.k2.")).toBe(true);
    const asked: string[] = [];
    const reader = new SecretBox(old, { onUnknownKid: (kid) => (asked.push(kid), rotated.keys.get(kid) ?? null) });
    expect(reader.decrypt(stored, ctx)).toBe("s3cret");
    expect(reader.decrypt(stored, ctx)).toBe("s3cret");
    expect(asked).toEqual(["k2"]);
    expect(reader.activeKid).toBe("k1");
    expect(reader.encrypt("x", ctx).startsWith("v1.k1.")).toBe(true);
  });

  it("a wrong key offered for the id fails authentication like any tampering", () => {
    const old = parseKeyring(generateKeyringJson("k1"), "test");
    const stored = new SecretBox(withNewActiveKey(old)).encrypt("s3cret", ctx);
    const reader = new SecretBox(old, { onUnknownKid: () => Buffer.alloc(32, 7) });
    expect(() => reader.decrypt(stored, ctx)).toThrow(DecryptError);
    const none = new SecretBox(old, { onUnknownKid: () => null });
    expect(() => none.decrypt(stored, ctx)).toThrow(/key "k2", which is not in the keyring/);
  });
});
