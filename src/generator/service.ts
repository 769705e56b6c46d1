/**
 * Generation for a registered integration: load + emit in memory, add the config keys the spec needs
 * (old schema + missing keys, through updateIntegration), then write `DIR/NAME.ts`. Any failure before
 * the write leaves the file system untouched; the schema is only extended, never changed.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ConfigSchemaItem } from "../core/types.js";
import type { Deps } from "../kernel/deps.js";
import { getIntegration, updateIntegration } from "../services/integrations.js";
import { authChoiceOf, mergeConfigSchema, parseAuthChoice } from "./config-keys.js";
import { SdkOutOfDateError } from "./errors.js";
import { generateSdk, type GenerateResult } from "./index.js";
import { loadSpec, loadSpecInline, type LoadOptions, type LoadedSpec } from "./load.js";
import { normalizeModuleName } from "./module-name.js";

export interface SdkRequest extends LoadOptions {
  /** File path or URL (or an inline spec via `inline`). */
  spec?: string;
  inline?: string | object;
  module?: string;
  /** Output directory; default ./modules. */
  outDir?: string;
  /** `--auth` choice; default `spec` (for `check`: the one recorded in the committed module). */
  auth?: string;
}

export interface SdkOutcome {
  result: GenerateResult;
  file: string | null;
  configAdded: ConfigSchemaItem[];
  configKept: string[];
}

async function load(req: SdkRequest): Promise<LoadedSpec> {
  if (req.inline !== undefined) return loadSpecInline(req.inline, req);
  if (!req.spec) throw new Error("spec is required");
  return loadSpec(req.spec, req);
}

/** Generate in memory and extend the integration's config schema. `write` also writes the module file. */
export async function generateForIntegration(deps: Deps, integration: string, req: SdkRequest, write: boolean): Promise<SdkOutcome> {
  const auth = parseAuthChoice(req.auth);
  const view = await getIntegration(deps, integration);
  const moduleName = normalizeModuleName(req.module ?? view.name);
  const loaded = await load(req);
  const result = await generateSdk(loaded, { integration: view.name, module: moduleName, auth, ...(req.onProgress ? { onProgress: req.onProgress } : {}) });
  const merge = mergeConfigSchema(view.configSchema, result.configKeys);
  if (merge.added.length > 0) await updateIntegration(deps, view.name, { configSchema: merge.schema });
  let file: string | null = null;
  if (write) {
    const dir = resolve(req.outDir ?? "modules");
    await mkdir(dir, { recursive: true });
    file = join(dir, result.fileName);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, result.source, "utf8");
    await rename(tmp, file);
  }
  return { result, file, configAdded: merge.added, configKept: merge.kept };
}

export interface CheckOutcome {
  file: string;
  upToDate: true;
  result: GenerateResult;
}

/** Summary of how two texts differ: first differing line and changed line counts. */
export function diffSummary(committed: string, fresh: string): { firstDifferentLine: number; committedLines: number; freshLines: number; changedLines: number } {
  const a = committed.split("\n");
  const b = fresh.split("\n");
  let first = 0;
  while (first < a.length && first < b.length && a[first] === b[first]) first++;
  const setA = new Set(a);
  const setB = new Set(b);
  const changed = a.filter((l) => !setB.has(l)).length + b.filter((l) => !setA.has(l)).length;
  return { firstDifferentLine: first + 1, committedLines: a.length, freshLines: b.length, changedLines: changed };
}

/** Regenerate in memory and compare with the committed file; throws SdkOutOfDateError when it differs. Nothing is written. */
export async function checkForIntegration(deps: Deps, integration: string, req: SdkRequest): Promise<CheckOutcome> {
  const given = req.auth === undefined ? undefined : parseAuthChoice(req.auth);
  const view = await getIntegration(deps, integration);
  const moduleName = normalizeModuleName(req.module ?? view.name);
  const file = join(resolve(req.outDir ?? "modules"), `${moduleName}.ts`);
  let committed: string;
  try {
    committed = await readFile(file, "utf8");
  } catch {
    throw new SdkOutOfDateError(`${file} does not exist; run \`bifrost sdk generate ${view.name} --spec …\` and commit it.`, { file, missing: true });
  }
  // The module records its --auth choice: regenerate with it unless another one is asked for.
  const auth = given ?? authChoiceOf(committed);
  const loaded = await load(req);
  const result = await generateSdk(loaded, { integration: view.name, module: moduleName, auth, ...(req.onProgress ? { onProgress: req.onProgress } : {}) });
  if (committed !== result.source) {
    const d = diffSummary(committed, result.source);
    throw new SdkOutOfDateError(
      `${file} is out of date: it differs from a fresh generation from line ${d.firstDifferentLine} (${d.changedLines} changed line(s); committed ${d.committedLines} lines, fresh ${d.freshLines}). Run \`bifrost sdk generate ${view.name} --spec …${auth === "spec" ? "" : ` --auth ${auth}`}\`.`,
      { file, ...d },
    );
  }
  return { file, upToDate: true, result };
}
