/**
 * `bifrost export --with-secrets` and `bifrost import` on the command line (in this process, test/helpers/cli.ts):
 * refusals before anything is written, the file's mode and contents, the move into a second instance with its
 * own keyring, and the plain export staying as it was. Key derivation here is the production default.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { openBifrost } from "../../src/host/bootstrap.js";
import { tempDir } from "../helpers/backends.js";
import { type CliResult, runCliInProcess } from "../helpers/cli.js";
import { getAs, resolverFor } from "../oauth/helpers/setup.js";

const DEFAULT_SECRET = "cli-move-default-secret-4e8a1b";
const ACME_SECRET = "cli-move-acme-secret-b7c2d9";
const PASSPHRASE = "an export passphrase of some length";

const json = (r: CliResult): Record<string, unknown> => JSON.parse(r.stdout) as Record<string, unknown>;

describe("bifrost export --with-secrets / bifrost import (CLI)", () => {
  const tmp = tempDir("bifrost-move-cli-");
  const src = { BIFROST_HOME: join(tmp.dir, "src-home"), BIFROST_KEYRING_FILE: join(tmp.dir, "src-keyring.json") };
  const dst = { BIFROST_HOME: join(tmp.dir, "dst-home"), BIFROST_KEYRING_FILE: join(tmp.dir, "dst-keyring.json") };
  const outDir = join(tmp.dir, "out");
  const file = join(outDir, "instance.bifrost");
  const inSource = (args: string[], extra: Record<string, string> = {}) => runCliInProcess(args, { cwd: tmp.dir, env: { ...src, ...extra } });
  const inTarget = (args: string[], extra: Record<string, string> = {}) => runCliInProcess(args, { cwd: tmp.dir, env: { ...dst, ...extra } });

  beforeAll(async () => {
    writeFileSync(src.BIFROST_KEYRING_FILE, generateKeyringJson("old1"), { mode: 0o600 });
    writeFileSync(dst.BIFROST_KEYRING_FILE, generateKeyringJson("new1"), { mode: 0o600 });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(outDir);
    for (const args of [
      ["orgs", "create", "acme"],
      ["integrations", "create", "HaloPSA", "--schema", '[{"key":"base_url","type":"string","required":true},{"key":"api_key","type":"secret"}]'],
      ["config", "set", "HaloPSA", "base_url=https://halo.example.com", `api_key=${DEFAULT_SECRET}`],
      ["config", "set", "HaloPSA", "--org", "acme", `api_key=${ACME_SECRET}`],
    ]) {
      const r = await inSource(args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
  });
  afterAll(() => tmp.cleanup());

  it("refuses without --out, without --passphrase-env, with the variable unset, empty or short, and writes nothing", async () => {
    const cases: Array<[string[], Record<string, string>, string, RegExp]> = [
      [["export", "--with-secrets", "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE }, "BIFROST_VALIDATION", /--out FILE/],
      [["export", "--with-secrets", "--out", file], {}, "BIFROST_PASSPHRASE_INVALID", /--passphrase-env VAR/],
      [["export", "--with-secrets", "--out", file, "--passphrase-env", "MOVE_PASS"], {}, "BIFROST_PASSPHRASE_INVALID", /MOVE_PASS is not set/],
      [["export", "--with-secrets", "--out", file, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: "" }, "BIFROST_PASSPHRASE_INVALID", /is empty/],
      [["export", "--with-secrets", "--out", file, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: "short-pass" }, "BIFROST_PASSPHRASE_INVALID", /has 10 characters; use at least 16/],
      [["export", "--out", file, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE }, "BIFROST_VALIDATION", /only with --with-secrets/],
    ];
    for (const [args, env, code, message] of cases) {
      const r = await inSource(args, env);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`error \\[${code}\\]: `));
      expect(r.stderr).toMatch(message);
    }
    // A passphrase typed where the variable's name belongs is not echoed.
    const typed = await inSource(["export", "--with-secrets", "--out", file, "--passphrase-env", "my secret pass phrase!", "--json"]);
    expect(json(typed)).toMatchObject({ code: "BIFROST_PASSPHRASE_INVALID" });
    expect(typed.stdout + typed.stderr).not.toContain("my secret pass phrase");
    const noDir = await inSource(["export", "--with-secrets", "--out", join(outDir, "missing", "x.bin"), "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE });
    expect(noDir.stderr).toMatch(/error \[BIFROST_VALIDATION\]: Cannot write .*x\.bin \(ENOENT\)/);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it("writes the encrypted file atomically with mode 0600; it contains no secret", async () => {
    const r = await inSource(["export", "--with-secrets", "--out", file, "--passphrase-env", "MOVE_PASS", "--json"], { MOVE_PASS: PASSPHRASE });
    expect(r.status, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ file, encrypted: true, organizations: 1, integrations: 1, mappings: 1, values: 3, secrets: 2 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(outDir)).toEqual(["instance.bifrost"]);
    const bytes = readFileSync(file);
    for (const s of [DEFAULT_SECRET, ACME_SECRET, "halo.example.com", "acme"]) expect(bytes.includes(Buffer.from(s)), s).toBe(false);
    expect(JSON.parse(bytes.subarray(0, bytes.indexOf(0x0a)).toString())).toMatchObject({ kdf: { name: "scrypt", n: 131072, r: 8, p: 1 } });
    // Writing again replaces the file and keeps the mode.
    const again = await inSource(["export", "--with-secrets", "--out", file, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Exported 1 organization\(s\), 1 integration\(s\).* to .*instance\.bifrost, encrypted/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(outDir)).toEqual(["instance.bifrost"]);
  });

  it("the plain export is unchanged: YAML, secrets as fingerprints, passphrase options refused without --with-secrets", async () => {
    const r = await inSource(["export"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# Exported by `bifrost export`/);
    expect(r.stdout).toMatch(/api_key:\n\s+set: true\n\s+fingerprint: hmac-sha256:[0-9a-f]{16}/);
    expect(r.stdout).not.toContain(DEFAULT_SECRET);
    expect(r.stdout).not.toContain(ACME_SECRET);
  });

  it("import into an instance with another keyring: wrong passphrase refused, then every secret resolves; a second import is refused", async () => {
    const wrong = await inTarget(["import", file, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: "not the passphrase at all" });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/error \[BIFROST_IMPORT_PASSPHRASE_WRONG\]: The passphrase in environment variable MOVE_PASS does not open .*Nothing was imported/);
    const plain = join(tmp.dir, "plain.yaml");
    writeFileSync(plain, (await inSource(["export"])).stdout);
    const notSealed = await inTarget(["import", plain, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE });
    expect(notSealed.stderr).toMatch(/error \[BIFROST_IMPORT_FILE_INVALID\]: .*plain `bifrost export`.*bifrost apply/);
    const missing = await inTarget(["import", join(tmp.dir, "nope.bin"), "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE });
    expect(missing.stderr).toMatch(/error \[BIFROST_IMPORT_FILE_INVALID\]: Cannot read .*nope\.bin \(ENOENT\)/);

    const ok = await inTarget(["import", file, "--passphrase-env", "MOVE_PASS", "--json"], { MOVE_PASS: PASSPHRASE });
    expect(ok.status, ok.stderr).toBe(0);
    expect(json(ok)).toMatchObject({ kid: "new1", organizations: 1, integrations: 1, secrets: 2, source_dialect: "sqlite", target_dialect: "sqlite" });
    expect(ok.stdout).not.toContain(ACME_SECRET);

    const bf = await openBifrost({ env: { ...dst }, warn: () => undefined, allowCreateDevKeyring: false });
    try {
      const acme = await bf.resolver.findOrg("acme");
      expect((await getAs(resolverFor(bf), "HaloPSA", acme))?.config.get("api_key")).toBe(ACME_SECRET);
      expect((await getAs(resolverFor(bf), "HaloPSA", null))?.config.get("api_key")).toBe(DEFAULT_SECRET);
    } finally {
      await bf.close();
    }
    const twice = await inTarget(["import", file, "--passphrase-env", "MOVE_PASS"], { MOVE_PASS: PASSPHRASE });
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/error \[BIFROST_IMPORT_TARGET_NOT_EMPTY\]: This instance already holds 1 organization\(s\) and 1 integration\(s\)/);
    expect(existsSync(file)).toBe(true);
  });
});
