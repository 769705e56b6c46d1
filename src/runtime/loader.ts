import { createRequire, register } from "node:module";
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { register as registerTsx } from "tsx/esm/api";
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
  if (specifier === "bifrost") return { url: target.main, shortCircuit: true, format: "module" };
  if (specifier === "bifrost/server") return { url: target.server, shortCircuit: true, format: "module" };
  const result = await next(specifier, context);
  // Workflow files are ES modules even in a folder without package.json "type": "module".
  if (/^file:.*\.(ts|mts|tsx)$/.test(result.url) && !result.url.includes("/node_modules/")) {
    return { ...result, format: "module" };
  }
  return result;
}`;

let registered = false;

/** Make `.ts` workflow files importable without a build step, and `import "bifrost"` resolvable. */
export function registerWorkflowLoader(): void {
  if (registered) return;
  registered = true;
  const require = createRequire(import.meta.url);
  registerTsx();
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, {
    data: { main: pathToFileURL(require.resolve("bifrost")).href, server: pathToFileURL(require.resolve("bifrost/server")).href },
  });
}

/** Import a workflow file and return its workflow definitions (the default export, or every exported one). */
export async function loadWorkflowFile(file: string): Promise<WorkflowDefinition[]> {
  registerWorkflowLoader();
  const abs = resolvePath(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message = String(e.message ?? err);
    const reason = e.code === "ERR_MODULE_NOT_FOUND" && message.includes(`Cannot find module '${abs}'`) ? "file not found" : redactText(message.split("\n")[0] ?? "");
    throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `Cannot load workflow file ${file}: ${reason}`, { file });
  }
  const found = new Map<string, WorkflowDefinition>();
  for (const value of [mod.default, ...Object.values(mod)]) {
    if (isWorkflow(value)) found.set(value.name, value);
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
