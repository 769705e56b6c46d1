/** The passphrase-sealed file format of `bifrost export --with-secrets` (src/crypto/sealed-file.ts). */
import { describe, expect, it } from "vitest";
import { checkPassphrase, openWithPassphrase, sealWithPassphrase } from "../../src/crypto/sealed-file.js";

const FAST = { n: 2 ** 14, r: 8, p: 1 };
const PASS = "sixteen chars ok";
const PLAINTEXT = Buffer.from(JSON.stringify({ secret: "plaintext-secret-3e9d" }));

async function refusal(bytes: Buffer, pass = PASS): Promise<string> {
  try {
    await openWithPassphrase(bytes, pass, "f.bin", "environment variable P");
    return "opened";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** A sealed file with its header replaced by `edit(header)` (the body is kept). */
function withHeader(sealed: Buffer, edit: (h: Record<string, unknown>) => void): Buffer {
  const nl = sealed.indexOf(0x0a);
  const header = JSON.parse(sealed.subarray(0, nl).toString()) as Record<string, unknown>;
  edit(header);
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), sealed.subarray(nl + 1)]);
}

describe("sealed file", () => {
  it("round-trips; the output holds neither the plaintext nor the passphrase; two seals differ (salt, IV)", async () => {
    const a = await sealWithPassphrase(PLAINTEXT, PASS, { scrypt: FAST });
    const b = await sealWithPassphrase(PLAINTEXT, PASS, { scrypt: FAST });
    expect((await openWithPassphrase(a, PASS, "f", "s")).equals(PLAINTEXT)).toBe(true);
    expect(a.includes(Buffer.from("plaintext-secret-3e9d"))).toBe(false);
    expect(a.includes(Buffer.from(PASS))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it("the passphrase is compared in Unicode NFC (composed and decomposed spellings open the same file)", async () => {
    const composed = "pass phrase \u00e9\u00e9\u00e9\u00e9\u00e9";
    const decomposed = "pass phrase e\u0301e\u0301e\u0301e\u0301e\u0301";
    const sealed = await sealWithPassphrase(PLAINTEXT, checkPassphrase(composed, "A"), { scrypt: FAST });
    expect((await openWithPassphrase(sealed, checkPassphrase(decomposed, "B"), "f", "s")).equals(PLAINTEXT)).toBe(true);
  });

  it("refuses empty and short passphrases, naming the source and never the value", () => {
    for (const [value, pattern] of [
      ["", /is empty/],
      ["   ", /is empty/],
      ["fifteen chars!!", /has 15 characters; use at least 16/],
    ] as const) {
      let err: unknown;
      try {
        checkPassphrase(value, "environment variable P");
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: "BIFROST_PASSPHRASE_INVALID" });
      expect((err as Error).message).toMatch(pattern);
      expect((err as Error).message).toContain("environment variable P");
      if (value.trim()) expect((err as Error).message).not.toContain(value);
    }
    expect(checkPassphrase("x".repeat(16), "P")).toBe("x".repeat(16));
  });

  it("a flipped byte anywhere (sampled over header and body) is refused", async () => {
    const sealed = await sealWithPassphrase(PLAINTEXT, PASS, { scrypt: FAST });
    const positions = new Set<number>();
    for (let i = 0; i < 14; i++) positions.add(Math.floor((i * (sealed.length - 1)) / 13));
    const codes = new Set<string>();
    for (const at of positions) {
      const copy = Buffer.from(sealed);
      copy[at] = (copy[at] as number) ^ 0x20;
      const code = await refusal(copy);
      expect(["BIFROST_IMPORT_FILE_TAMPERED", "BIFROST_IMPORT_PASSPHRASE_WRONG", "BIFROST_IMPORT_FILE_INVALID"], `byte ${at}`).toContain(code);
      codes.add(code);
    }
    expect(codes.has("BIFROST_IMPORT_FILE_TAMPERED")).toBe(true);
    expect(await refusal(sealed)).toBe("opened");
  });

  it("a header asking for an oversized or malformed key derivation is refused before deriving anything", async () => {
    const sealed = await sealWithPassphrase(PLAINTEXT, PASS, { scrypt: FAST });
    const kdf = (patch: Record<string, unknown>) => withHeader(sealed, (h) => Object.assign(h.kdf as object, patch));
    for (const bad of [{ n: 2 ** 30 }, { n: 2 ** 20, r: 32 }, { n: 1000 }, { n: 2 ** 10 }, { p: 99 }, { r: 0 }, { salt: "short" }, { name: "pbkdf2" }]) {
      expect(await refusal(kdf(bad)), JSON.stringify(bad)).toBe("BIFROST_IMPORT_FILE_TAMPERED");
    }
    expect(await refusal(withHeader(sealed, (h) => (h.cipher = { name: "aes-256-cbc", iv: (h.cipher as { iv: string }).iv })))).toBe("BIFROST_IMPORT_FILE_TAMPERED");
    await expect(sealWithPassphrase(PLAINTEXT, PASS, { scrypt: { n: 2 ** 21, r: 8, p: 1 } })).rejects.toThrow(/scrypt parameters/);
  });

  it("other files: a newer format version, a plain export, random bytes, an empty file", async () => {
    const sealed = await sealWithPassphrase(PLAINTEXT, PASS, { scrypt: FAST });
    const newer = withHeader(sealed, (h) => (h.version = 2));
    await expect(openWithPassphrase(newer, PASS, "f.bin", "s")).rejects.toMatchObject({ code: "BIFROST_IMPORT_FILE_INVALID", message: expect.stringMatching(/version 2 by a newer Bifrost/) });
    await expect(openWithPassphrase(Buffer.from("# Exported by `bifrost export`.\norganizations: []\n"), PASS, "b.yaml", "s")).rejects.toMatchObject({
      code: "BIFROST_IMPORT_FILE_INVALID",
      message: expect.stringMatching(/plain `bifrost export`.*bifrost apply b\.yaml/),
    });
    expect(await refusal(Buffer.from([0x00, 0xff, 0x10, 0x0a, 0x01]))).toBe("BIFROST_IMPORT_FILE_INVALID");
    expect(await refusal(Buffer.alloc(0))).toBe("BIFROST_IMPORT_FILE_INVALID");
  });
});
