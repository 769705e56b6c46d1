/** `bifrost/generator`: OpenAPI (2.0 / 3.0 / 3.1) → one typed TypeScript module calling `bifrost/client`. */
import { parseAuthChoice } from "./config-keys.js";
import { emitModule, type EmitResult } from "./emit.js";
import { loadSpec, type LoadOptions, type LoadedSpec } from "./load.js";
import { normalizeModuleName } from "./module-name.js";
import type { ProgressReporter } from "./progress.js";

export { emitModule, type EmitOptions, type EmitResult } from "./emit.js";
export { loadSpec, type LoadOptions, type LoadedSpec } from "./load.js";
export { normalizeModuleName } from "./module-name.js";
export { AUTH_FORMS, authChoiceOf, mergeConfigSchema, parseAuthChoice, type AuthChoice, type ConfigMerge, type PlannedKey } from "./config-keys.js";
export type { ProgressEvent, ProgressReporter, GeneratorPhase } from "./progress.js";
export * from "./errors.js";

export interface GenerateOptions extends LoadOptions {
  integration: string;
  /** Module name; default = the integration name lowercased. */
  module?: string;
  clientImport?: string;
  onProgress?: ProgressReporter;
  /** `--auth`: `spec` (default), `oauth`, `bearer`, `basic`, `api-key:header:NAME`, `api-key:query:NAME`, `none`. */
  auth?: string;
}

export interface GenerateResult extends EmitResult {
  moduleName: string;
  fileName: string;
  spec: { source: string; version: string; bytes: number; title: string };
  timings: { loadMs: number; emitMs: number };
}

/** Load + emit, in memory (nothing is written). */
export async function generateSdk(spec: string | LoadedSpec, opts: GenerateOptions): Promise<GenerateResult> {
  const moduleName = normalizeModuleName(opts.module ?? opts.integration);
  // Checked before anything is loaded: a bad choice costs no download.
  const auth = parseAuthChoice(opts.auth);
  const t0 = performance.now();
  const loaded = typeof spec === "string" ? await loadSpec(spec, opts) : spec;
  const t1 = performance.now();
  opts.onProgress?.({ phase: "emit", done: 0, total: null });
  const emitted = emitModule(loaded.doc, { integration: opts.integration, moduleName, ...(opts.clientImport ? { clientImport: opts.clientImport } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), auth });
  const t2 = performance.now();
  opts.onProgress?.({ phase: "done" });
  const info = (loaded.doc.info ?? {}) as { title?: unknown };
  return {
    ...emitted,
    warnings: [...loaded.warnings, ...emitted.warnings],
    moduleName,
    fileName: `${moduleName}.ts`,
    spec: { source: loaded.source, version: loaded.sourceVersion, bytes: loaded.bytes, title: typeof info.title === "string" ? info.title : "" },
    timings: { loadMs: Math.round(t1 - t0), emitMs: Math.round(t2 - t1) },
  };
}
