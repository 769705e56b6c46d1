/**
 * `bifrost types`: the declaration file typing `integrations.get(name).config` per stored schema.
 * Type-level tests compile workflows against `bifrost` (src/index.ts) with the TypeScript compiler
 * API: `@ts-expect-error` marks what must NOT compile (an unused directive is itself an error, so
 * each one proves its line fails), and every other line must compile. The CLI runs in-process on
 * SQLite and (when configured) PostgreSQL.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import type { ConfigSchemaItem } from "../../src/core/types.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { checkConfigTypes, renderConfigTypes, type TypedIntegration, TypesOutOfDateError, valueType } from "../../src/generator/config-types.js";
import { BACKENDS, createTestDatabase, tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");

const HALO: TypedIntegration = {
  name: "HaloPSA",
  description: "Halo PSA */ tickets",
  configSchema: [
    { key: "base_url", type: "string", required: true, description: "API root" },
    { key: "api_key", type: "secret", required: true },
    { key: "timeout", type: "int", required: false },
    { key: "flags", type: "json", required: false },
    { key: "verbose", type: "bool", required: false },
    { key: "region", type: "string", required: true, options: ["eu", "us"], orgOverride: false },
  ],
};
const NINJA: TypedIntegration = { name: "Ninja.RMM-1", configSchema: [{ key: "client_id", type: "string", required: false }] };

let previous: ts.Program | undefined;

/**
 * Type-check `files` with `bifrost` mapped to src/index.ts. `errors`: diagnostics in `files`;
 * `otherErrors` (only with `everything`, the slow part): diagnostics anywhere else, i.e. in the SDK's sources.
 */
function typeCheck(files: string[], everything = false): { errors: string[]; otherErrors: string[] } {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2023.d.ts"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules/@types")],
    baseUrl: ROOT,
    paths: { bifrost: [join(ROOT, "src/index.ts")] },
  };
  // The previous program lets the compiler reuse the parsed SDK sources.
  const program = ts.createProgram({ rootNames: files, options, ...(previous ? { oldProgram: previous } : {}) });
  previous = program;
  const wanted = new Set(files.map((f) => resolve(f)));
  const diagnostics = everything
    ? ts.getPreEmitDiagnostics(program)
    : [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...files.flatMap((f) => {
        const sf = program.getSourceFile(f);
        return sf ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)] : [];
      })];
  const errors: string[] = [];
  const otherErrors: string[] = [];
  for (const d of diagnostics) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "(options)";
    const text = `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    (d.file && wanted.has(resolve(d.file.fileName)) ? errors : otherErrors).push(text);
  }
  return { errors, otherErrors };
}

const TYPED_WORKFLOW = `import { integrations, workflow, type JsonValue } from "bifrost";

export default workflow("typed", async () => {
  const halo = await integrations.require("HaloPSA");
  const base: string = halo.config.get("base_url");
  const key: string = halo.config.get("api_key");
  const timeout: number | undefined = halo.config.get("timeout");
  const flags: JsonValue | undefined = halo.config.get("flags");
  const verbose: boolean | undefined = halo.config.get("verbose");
  const region: "eu" | "us" = halo.config.get("region");
  const known: boolean = halo.config.has("timeout");
  const ninja = await integrations.get("Ninja.RMM-1");
  const clientId: string | undefined = ninja?.config.get("client_id");

  // @ts-expect-error unknown config key (typo)
  halo.config.get("timout");
  // @ts-expect-error a key of another integration
  halo.config.get("client_id");
  // @ts-expect-error unknown integration name
  await integrations.get("HaloPSB");
  const someName: string = "HaloPSA";
  // @ts-expect-error an arbitrary string is not a registered name
  await integrations.require(someName);
  // @ts-expect-error wrong type: base_url is a string
  const n: number = halo.config.get("base_url");
  // @ts-expect-error optional keys may be undefined
  const t: number = halo.config.get("timeout");
  // @ts-expect-error options are a closed set
  const r: "apac" = halo.config.get("region");
  // @ts-expect-error has() takes schema keys only
  halo.config.has("nope");

  return { base, key, timeout, flags, verbose, region, known, clientId, n, t, r, mapped: halo.mapped };
});
`;

describe("renderConfigTypes", () => {
  it("maps schema types: secrets to string, options to literal unions, optional keys to | undefined", () => {
    const text = renderConfigTypes([HALO]);
    expect(text).toContain('declare module "bifrost" {');
    expect(text).toContain('    "HaloPSA": {');
    expect(text).toContain("      base_url: string;");
    expect(text).toContain("      api_key: string;");
    expect(text).toContain("      timeout: number | undefined;");
    expect(text).toContain("      flags: JsonValue | undefined;");
    expect(text).toContain("      verbose: boolean | undefined;");
    expect(text).toContain('      region: "eu" | "us";');
    expect(text).toContain('import type { JsonValue } from "bifrost";');
    // A description cannot close the comment early.
    expect(text).toContain("/** Halo PSA *\\/ tickets */");
    expect(text).toContain("(string, required, platform admins only per org)");
    expect(valueType({ key: "n", type: "int", required: false, options: [1, 2] } satisfies ConfigSchemaItem)).toBe("1 | 2");
  });

  it("is deterministic: the same schemas in any order give the same bytes, with no timestamps", () => {
    const a = renderConfigTypes([HALO, NINJA]);
    const b = renderConfigTypes([NINJA, { ...HALO, configSchema: [...HALO.configSchema] }]);
    expect(b).toBe(a);
    expect(a.indexOf('"HaloPSA"')).toBeLessThan(a.indexOf('"Ninja.RMM-1"'));
    expect(a).not.toMatch(/20\d\d-\d\d-\d\d/);
    // Without json keys the file is still a module (augmentation, not a global declaration).
    expect(renderConfigTypes([NINJA])).toContain("export {};");
  });

  it("checkConfigTypes names the file, the first differing line and the command that regenerates it", () => {
    const fresh = renderConfigTypes([HALO]);
    expect(() => checkConfigTypes("t.d.ts", fresh, fresh, "bifrost types --out t.d.ts")).not.toThrow();
    const stale = renderConfigTypes([{ ...HALO, configSchema: HALO.configSchema.slice(0, 2) }]);
    let err: unknown;
    try {
      checkConfigTypes("t.d.ts", stale, fresh, "bifrost types --out t.d.ts");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypesOutOfDateError);
    expect((err as TypesOutOfDateError).code).toBe("BIFROST_TYPES_OUT_OF_DATE");
    expect((err as Error).message).toMatch(/t\.d\.ts is out of date .*line \d+.*run `bifrost types --out t\.d\.ts`/);
    expect(() => checkConfigTypes("t.d.ts", null, fresh, "bifrost types")).toThrow(/t\.d\.ts does not exist; run `bifrost types`/);
  });
});

describe("workflows type-checked against the declarations", () => {
  const tmp = tempDir("bifrost-config-types-");
  afterAll(() => tmp.cleanup());

  it("typed: known keys get their types; unknown keys, unknown integrations and wrong types do not compile", () => {
    const dir = join(tmp.dir, "typed");
    ts.sys.createDirectory(dir);
    writeFileSync(join(dir, "bifrost-types.d.ts"), renderConfigTypes([HALO, NINJA]));
    writeFileSync(join(dir, "workflow.ts"), TYPED_WORKFLOW);
    // Positive control: without the @ts-expect-error lines the same misuses are reported.
    writeFileSync(join(dir, "control.ts"), TYPED_WORKFLOW.replaceAll(/^\s*\/\/ @ts-expect-error.*\n/gm, ""));
    const { errors, otherErrors } = typeCheck(["bifrost-types.d.ts", "workflow.ts", "control.ts"].map((f) => join(dir, f)), true);
    expect(errors.filter((e) => !e.includes("control.ts"))).toEqual([]);
    expect(errors.filter((e) => e.includes("control.ts")).map((e) => /TS\d+/.exec(e)?.[0])).toEqual(["TS2345", "TS2345", "TS2345", "TS2345", "TS2322", "TS2322", "TS2322", "TS2345"]);
    // The SDK's own sources still compile with a populated registry.
    expect(otherErrors).toEqual([]);
  });

  it("loose: without the file, examples/workflows and get<T>() on any name compile as before", () => {
    const wf = join(tmp.dir, "loose.ts");
    writeFileSync(
      wf,
      `import { integrations } from "bifrost";
const name: string = process.argv[2] ?? "Anything";
const i = await integrations.require(name);
export const timeout: number | undefined = i.config.get<number>("timeout");
export const any = i.config.get("whatever");
export const other = await integrations.get("NotRegistered");
`,
    );
    const { errors, otherErrors } = typeCheck([wf, join(ROOT, "examples/workflows/sync_data.ts")]);
    expect(errors).toEqual([]);
    expect(otherErrors).toEqual([]);
  });
});

describe.each(BACKENDS)("bifrost types on $name", (backend) => {
  const tmp = tempDir("bifrost-types-cli-");
  let drop: (() => Promise<void>) | null = null;
  afterAll(async () => {
    await drop?.();
    tmp.cleanup();
  });

  const yaml = (timeoutType: string) => `integrations:
  - name: HaloPSA
    config_schema:
      - { key: base_url, type: string, required: true }
      - { key: api_key, type: secret, required: true }
      - { key: timeout, type: ${timeoutType} }
  - name: Ninja
    config_schema:
      - { key: flags, type: json }
`;

  it("writes the declarations, --check exits 0 when current and 1 (naming the command) when stale or missing", async () => {
    let env: Record<string, string>;
    if (backend.name === "postgres") {
      const db = await createTestDatabase();
      drop = db.drop;
      env = { DATABASE_URL: db.url, BIFROST_KEYRING: generateKeyringJson() };
    } else {
      env = { BIFROST_HOME: join(tmp.dir, "home") };
    }
    const cli = (args: string[]) => runCliInProcess(args, { env, cwd: tmp.dir });
    writeFileSync(join(tmp.dir, "bifrost.yaml"), yaml("int"));
    expect((await cli(["apply", "bifrost.yaml"])).status).toBe(0);

    const missing = await cli(["types", "--check", "--out", "wf/types.d.ts"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("BIFROST_TYPES_OUT_OF_DATE");
    expect(missing.stderr).toContain("run `bifrost types --out wf/types.d.ts`");

    ts.sys.createDirectory(join(tmp.dir, "wf"));
    const written = await cli(["types", "--out", "wf/types.d.ts", "--json"]);
    expect(written.status).toBe(0);
    expect(JSON.parse(written.stdout)).toEqual({ file: "wf/types.d.ts", integrations: 2, keys: 4, changed: true });
    const text = readFileSync(join(tmp.dir, "wf/types.d.ts"), "utf8");
    expect(text).toContain("      timeout: number | undefined;");
    expect(text).toContain("      api_key: string;");
    // Same store, same bytes.
    expect(JSON.parse((await cli(["types", "--out", "wf/types.d.ts", "--json"])).stdout)).toMatchObject({ changed: false });

    const ok = await cli(["types", "--check", "--out", "wf/types.d.ts"]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("wf/types.d.ts is up to date");

    // A workflow compiles against the file the CLI wrote.
    writeFileSync(join(tmp.dir, "wf/w.ts"), 'import { integrations } from "bifrost";\nconst h = await integrations.require("HaloPSA");\nexport const t: number | undefined = h.config.get("timeout");\n');
    expect(typeCheck([join(tmp.dir, "wf/types.d.ts"), join(tmp.dir, "wf/w.ts")]).errors).toEqual([]);

    // The schema changes: the file is stale until regenerated; --check writes nothing.
    writeFileSync(join(tmp.dir, "bifrost.yaml"), yaml("string"));
    expect((await cli(["apply", "bifrost.yaml"])).status).toBe(0);
    const stale = await cli(["types", "--check", "--out", "wf/types.d.ts", "--json"]);
    expect(stale.status).toBe(1);
    const envelope = JSON.parse(stale.stdout) as { code: string; message: string };
    expect(envelope.code).toBe("BIFROST_TYPES_OUT_OF_DATE");
    expect(envelope.message).toMatch(/out of date .* run `bifrost types --out wf\/types\.d\.ts`/);
    expect(readFileSync(join(tmp.dir, "wf/types.d.ts"), "utf8")).toBe(text);
    expect((await cli(["types", "--out", "wf/types.d.ts"])).status).toBe(0);
    expect((await cli(["types", "--check", "--out", "wf/types.d.ts"])).status).toBe(0);
    expect(readFileSync(join(tmp.dir, "wf/types.d.ts"), "utf8")).toContain("      timeout: string | undefined;");
  });
});
