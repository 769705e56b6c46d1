import { readFileSync } from "node:fs";
import Module, { createRequire, register } from "node:module";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { importEsm } from "../core/esm-import.js";
import { cliBundleDir } from "../core/package-info.js";
import { WorkflowError } from "../core/errors.js";
import { redactText } from "../crypto/redact.js";
import { isWorkflow, type WorkflowDefinition } from "./workflow.js";

/**
 * Resolve hook: `bifrost` and `bifrost/*` imported by workflow files resolve to this installation,
 * wherever the workflow folder is. One SDK instance per process means one execution context.
 */
const HOOKS = `
let target;
export function initialize(data) { target = data; }
export async function resolve(specifier, context, next) {
  if (specifier === "bifrost" || specifier.startsWith("bifrost/")) {
    const url = target.exports[specifier === "bifrost" ? "." : "." + specifier.slice(7)];
    if (url) return { url, shortCircuit: true, format: url.endsWith(".json") ? "json" : "module" };
  }
  const result = await next(specifier, context);
  // Workflow files are ES modules even in a folder without package.json "type": "module".
  if (/^file:[^?#]*[.](ts|mts|tsx)(?:[?#].*)?$/.test(result.url) && !result.url.includes("/node_modules/")) {
    return { ...result, format: "module" };
  }
  return result;
}`;

/** Set on the first workflow load; later loads wait for the same registration. */
let registering: Promise<void> | null = null;

/**
 * The bundled CLI holds its own instance of the SDK; workflows it runs must import that instance (one
 * execution context, one set of error classes), so "bifrost" and "bifrost/client" resolve to the
 * bundle's entries (`cliBundleDir()`) when running from it.
 */
const BUNDLE_ENTRIES: Readonly<Record<string, string>> = { ".": "index.js", "./client": "client/index.js" };

/** Every subpath of package.json "exports" ("." , "./server", "./client", …) → file URL of this installation. */
function exportUrls(require: NodeRequire): Record<string, string> {
  const pkgFile = require.resolve("bifrost/package.json");
  const bundleDir = cliBundleDir();
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { exports?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const sub of Object.keys(pkg.exports ?? {})) {
    if (sub.includes("*")) continue;
    const bundled = bundleDir === null ? undefined : BUNDLE_ENTRIES[sub];
    if (bundled !== undefined && bundleDir !== null) {
      out[sub] = pathToFileURL(resolvePath(bundleDir, bundled)).href;
      continue;
    }
    try {
      out[sub] = pathToFileURL(require.resolve(sub === "." ? "bifrost" : `bifrost${sub.slice(1)}`)).href;
    } catch {
      // not built (dist missing): left to the default resolver, which reports it
    }
  }
  return out;
}

/** Make `.ts` workflow files importable without a build step, and `import "bifrost"` resolvable. */
function registerWorkflowLoader(): Promise<void> {
  registering ??= registerOnce();
  return registering;
}

async function registerOnce(): Promise<void> {
  // Imported as an ES module even from the CommonJS CLI bundle: tsx finds its hook files next to its ESM build.
  const { register: registerTsx } = await importEsm<typeof import("tsx/esm/api")>("tsx/esm/api");
  const require = createRequire(import.meta.url);
  // A worker started from the TypeScript sources registered tsx already (src/host/workflow-pool.ts): a
  // second registration would put every import through two tsx hook chains.
  if ((globalThis as Record<symbol, unknown>)[Symbol.for("bifrost.tsxRegistered")] !== true) registerTsx();
  const exports = exportUrls(require);
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { exports } });
  patchCommonJsResolution(exports);
}

/**
 * In a folder whose package.json lacks `"type": "module"`, tsx compiles `.ts` files reached by relative
 * imports to CommonJS, and `require()` never consults ESM resolve hooks. Map `bifrost` and `bifrost/*`
 * there too (Node ≥ 20.19 can require() this package's ES modules; it shares the ESM module cache, so
 * the SDK stays one instance). `_resolveFilename` is Node's internal CommonJS resolver: the only hook
 * CommonJS offers.
 */
function patchCommonJsResolution(exports: Record<string, string>): void {
  const paths = new Map(Object.entries(exports).map(([sub, url]) => [sub === "." ? "bifrost" : `bifrost${sub.slice(1)}`, fileURLToPath(url)]));
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function resolveBifrost(this: unknown, request: string, ...rest: unknown[]): string {
    return paths.get(request) ?? original.call(this, request, ...rest);
  };
}

/** The file each definition was loaded from (by loadWorkflowFile): what a worker imports to run it. */
const sources = new WeakMap<WorkflowDefinition, string>();

/** The absolute file a workflow definition was loaded from; undefined for one built in code (not loaded from a file). */
export function workflowSource(def: WorkflowDefinition): string | undefined {
  return sources.get(def);
}

/** Import a workflow file and return its workflow definitions (the default export, or every exported one). */
export async function loadWorkflowFile(file: string): Promise<WorkflowDefinition[]> {
  await registerWorkflowLoader();
  const abs = resolvePath(file);
  let mod: Record<string, unknown>;
  try {
    mod = await importEsm<Record<string, unknown>>(pathToFileURL(abs).href);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message = String(e.message ?? err);
    const reason = e.code === "ERR_MODULE_NOT_FOUND" && message.includes(`Cannot find module '${abs}'`) ? "file not found" : redactText(message.split("\n")[0] ?? "");
    throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `Cannot load workflow file ${file}: ${reason}`, { file });
  }
  const found = new Map<string, WorkflowDefinition>();
  for (const value of [mod.default, ...Object.values(mod)]) {
    if (isWorkflow(value)) {
      found.set(value.name, value);
      if (!sources.has(value)) sources.set(value, abs);
    }
  }
  if (found.size === 0) {
    throw new WorkflowError(
      "BIFROST_WORKFLOW_LOAD",
      `${file} exports no workflow. Export one: \`export default workflow("name", async (input) => { … })\` with \`import { workflow } from "bifrost"\`.`,
      { file },
    );
  }
  return [...found.values()];
}

/** The workflow to run from `file`'s definitions: the only one, or the one named (`--workflow NAME`). */
export function pickWorkflow(file: string, defs: readonly WorkflowDefinition[], name: string | undefined): WorkflowDefinition {
  const names = defs.map((d) => d.name);
  if (name !== undefined) {
    const def = defs.find((d) => d.name === name);
    if (!def) throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `${file} has no workflow "${name}"; it exports: ${names.join(", ")}.`, { file, workflows: names });
    return def;
  }
  if (defs.length > 1) {
    throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `${file} exports ${defs.length} workflows (${names.join(", ")}); pick one with --workflow NAME.`, { file, workflows: names });
  }
  const def = defs[0];
  if (!def) throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `${file} exports no workflow.`, { file });
  return def;
}
