import { BifrostError, WorkflowError } from "../core/errors.js";
import { redactText } from "../crypto/redact.js";
import { createContext, type RunAsOptions, runInContext } from "./context.js";
import { installOutputCapture } from "./output.js";
import type { WorkflowDefinition, WorkflowFn } from "./workflow.js";

export interface ExecutionResult {
  executionId: string;
  workflow: string;
  org: string | null;
  result: unknown;
}

/** JSON round trip: the result must be JSON, and secrets inside config objects are masked by toJSON(). */
function toJsonResult(workflow: string, value: unknown): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (err) {
    throw new WorkflowError("BIFROST_WORKFLOW_FAILED", `Workflow "${workflow}" returned a value that is not JSON-serialisable: ${(err as Error).message}`);
  }
}

/**
 * Run one workflow as an organization. Errors come back as BifrostError with every secret
 * this execution received replaced by [REDACTED]. Its console output is captured (see output.ts),
 * redacted the same way and handed to `opts.output` (default: printed with the execution id).
 */
export async function executeWorkflow(def: WorkflowDefinition, input: unknown, opts: RunAsOptions): Promise<ExecutionResult> {
  installOutputCapture();
  const ctx = createContext(opts);
  try {
    // The input comes from JSON (CLI or HTTP); the workflow's declared input type is its own contract.
    const handler = def.handler as WorkflowFn<unknown, unknown>;
    const raw = await runInContext(ctx, async () => handler(input));
    const result = toJsonResult(def.name, raw);
    const text = JSON.stringify(result);
    if ([...ctx.secrets].some((s) => s.length >= 4 && text.includes(s))) {
      throw new WorkflowError("BIFROST_WORKFLOW_FAILED", `Workflow "${def.name}" returned a secret config value in its result; the result was withheld. Return what the caller needs, not the secret.`);
    }
    return { executionId: ctx.executionId, workflow: def.name, org: opts.org?.slug ?? null, result };
  } catch (err) {
    const secrets = [...ctx.secrets];
    if (err instanceof BifrostError) {
      if (secrets.length === 0) throw err;
      throw new WorkflowError("BIFROST_WORKFLOW_FAILED", redactText(err.message, secrets), { cause: err.code, executionId: ctx.executionId });
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new WorkflowError("BIFROST_WORKFLOW_FAILED", `Workflow "${def.name}" failed: ${redactText(message, secrets)}`, {
      executionId: ctx.executionId,
      ...(err instanceof Error ? { error: err.name } : {}),
    });
  }
}
