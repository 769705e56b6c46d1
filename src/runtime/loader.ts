import { existsSync, readFileSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { importEsm } from "../core/esm-import.js";
import { cliBundleDir, packageRoot } from "../core/package-info.js";
import { WorkflowError } from "../core/errors.js";
import { redactText } from "../crypto/redact.js";
import { buildWorkflow, type SdkEntries, WorkflowBuildError } from "./workflow-build.js";
import { isWorkflow, type WorkflowDefinition } from "./workflow.js";

/**
 * The bundled CLI holds its own instance of the SDK (the bundle's runtime file, which its workflow workers
 * run too: src/host/workflow-pool.ts); workflows must import that instance (one execution context, one set
 * of error classes), so "bifrost" and "bifrost/client" map to the bundle's entries (`cliBundleDir()`).
 */
const BUNDLE_ENTRIES: Readonly<Record<string, string>> = { ".": "index.js", "./client": "client/index.js" };

/**
 * The file a package.json "exports" value names for require() (conditions "require", "node", "default",
 * in the order written), as Node's resolver picks it: read here rather than by resolving "bifrost/…",
 * which loads Node's ES module resolver, a few ms of every `bifrost run`.
 */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  for (const [condition, target] of Object.entries(value)) {
    const found = ["require", "node", "default"].includes(condition) ? exportTarget(target) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every subpath of package.json "exports" ("." , "./server", "./client", …) → file URL of this installation. */
function sdkEntries(): SdkEntries {
  const root = packageRoot();
  const bundleDir = cliBundleDir();
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const sub of Object.keys(pkg.exports ?? {})) {
    if (sub.includes("*")) continue;
    const bundled = bundleDir === null ? undefined : BUNDLE_ENTRIES[sub];
    if (bundled !== undefined && bundleDir !== null) {
      out[sub] = pathToFileURL(resolvePath(bundleDir, bundled)).href;
      continue;
    }
    const target = exportTarget(pkg.exports?.[sub]);
    // Not built (dist missing): the build reports an import of it as not an entry.
    if (target !== undefined && existsSync(join(root, target))) out[sub] = pathToFileURL(join(root, target)).href;
  }
  return { entries: out, dirs: [join(root, "src"), join(root, "dist")] };
}

const modules = new Map<string, Promise<string>>();

/**
 * The ES module (file URL) that runs workflow file `file`: built with esbuild or taken from the cache
 * (src/runtime/workflow-build.ts), in this thread; a worker is handed the URL. Decided once per
 * process, so a server's workers run what its definitions were loaded from. Throws BIFROST_WORKFLOW_LOAD.
 */
export function workflowModule(file: string): Promise<string> {
  const key = resolvePath(file);
  const abs = key;
  let p = modules.get(key);
  if (!p) {
    p = (async () => {
      if (!existsSync(abs)) throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `Cannot load workflow file ${file}: file not found`, { file });
      try {
        return await buildWorkflow(abs, sdkEntries());
      } catch (err) {
        const reason = err instanceof WorkflowBuildError ? err.message : String((err as Error).message ?? err).split("\n")[0];
        throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `Cannot load workflow file ${file}: ${redactText(reason ?? "")}`, { file });
      }
    })();
    modules.set(key, p);
    p.catch(() => modules.delete(key));
  }
  return p;
}

/** The file each definition was loaded from (by loadWorkflowFile): what a worker imports to run it. */
const sources = new WeakMap<WorkflowDefinition, string>();

/** The absolute file a workflow definition was loaded from; undefined for one built in code (not loaded from a file). */
export function workflowSource(def: WorkflowDefinition): string | undefined {
  return sources.get(def);
}

/** Import a workflow file in this thread and return its workflow definitions (the default export, or every exported one). */
export async function loadWorkflowFile(file: string): Promise<WorkflowDefinition[]> {
  return importWorkflowModule(await workflowModule(file), file);
}

/** Import a module made by workflowModule() for `file` and return its workflow definitions. */
export async function importWorkflowModule(url: string, file: string): Promise<WorkflowDefinition[]> {
  // Stack traces through the module's inline source map name the user's files and lines.
  process.setSourceMapsEnabled(true);
  let mod: Record<string, unknown>;
  try {
    mod = await importEsm<Record<string, unknown>>(url);
  } catch (err) {
    const message = String((err as Error).message ?? err);
    throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `Cannot load workflow file ${file}: ${redactText(message.split("\n")[0] ?? "")}`, { file });
  }
  const abs = resolvePath(file);
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
