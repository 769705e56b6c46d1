import { availableParallelism } from "node:os";
import { ValidationError } from "../core/errors.js";

/** The limits every workflow execution runs under (DESIGN §9.5). */
export interface WorkflowLimits {
  /** Time limit per execution (BIFROST_WORKFLOW_TIMEOUT_MS, default 300000); a workflow's own `timeoutMs` wins. */
  timeoutMs: number;
  /** Heap limit of a worker (BIFROST_WORKFLOW_MEMORY_MB, default 512). */
  memoryMb: number;
  /** Executions running at once (BIFROST_WORKFLOW_CONCURRENCY, default 2 × cores, at least 4). */
  concurrency: number;
  /** Executions waiting for a slot before new ones get BIFROST_BUSY (BIFROST_WORKFLOW_QUEUE, default 4 × concurrency). */
  queue: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ValidationError(`${name}=${JSON.stringify(raw)} is not a whole number between 1 and ${max}; unset it for the default (${fallback}).`, { path: name });
  }
  return n;
}

/** The limits from the environment; a malformed variable is a startup error naming it. */
export function workflowLimits(env: NodeJS.ProcessEnv = process.env, overrides: Partial<WorkflowLimits> = {}): WorkflowLimits {
  const concurrency = overrides.concurrency ?? positive(env, "BIFROST_WORKFLOW_CONCURRENCY", Math.max(4, 2 * availableParallelism()), 1024);
  return {
    timeoutMs: overrides.timeoutMs ?? positive(env, "BIFROST_WORKFLOW_TIMEOUT_MS", 300_000, 24 * 3600 * 1000),
    memoryMb: overrides.memoryMb ?? positive(env, "BIFROST_WORKFLOW_MEMORY_MB", 512, 64 * 1024),
    concurrency,
    queue: overrides.queue ?? positive(env, "BIFROST_WORKFLOW_QUEUE", 4 * concurrency, 1_000_000),
  };
}
