import { ValidationError } from "../core/errors.js";
import { currentContext } from "./context.js";

const WORKFLOW = Symbol.for("bifrost.workflow.v1");

export type WorkflowFn<I, O> = (input: I) => Promise<O> | O;

/**
 * A declared workflow. Without type arguments it means "any workflow": the input type defaults to
 * `never` so definitions with any input type are assignable to it.
 */
export interface WorkflowDefinition<I = never, O = unknown> {
  readonly [WORKFLOW]: true;
  readonly name: string;
  readonly handler: WorkflowFn<I, O>;
  /** This workflow's time limit in ms (`workflow(name, fn, { timeoutMs })`); absent: BIFROST_WORKFLOW_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface WorkflowOptions {
  /** Time limit of one execution in ms; overrides BIFROST_WORKFLOW_TIMEOUT_MS (default 300000) for this workflow. */
  timeoutMs?: number;
}

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

/** Declare a workflow. Export it as the module's default export. */
export function workflow<I = unknown, O = unknown>(name: string, handler: WorkflowFn<I, O>, options: WorkflowOptions = {}): WorkflowDefinition<I, O> {
  if (!NAME.test(name)) throw new ValidationError(`Workflow name ${JSON.stringify(name)} is invalid: start with a letter; letters, digits, '_', '-', '.' only.`);
  if (typeof handler !== "function") throw new ValidationError(`workflow("${name}", handler): handler must be a function.`);
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)) {
    throw new ValidationError(`workflow("${name}", handler, { timeoutMs }): timeoutMs must be a whole number of milliseconds ≥ 1 (got ${JSON.stringify(timeoutMs)}).`, { path: "timeoutMs" });
  }
  return Object.freeze({ [WORKFLOW]: true as const, name, handler, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

export function isWorkflow(value: unknown): value is WorkflowDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[WORKFLOW] === true;
}

/** The current execution's id and org, for logging inside a workflow. */
export function execution(): { executionId: string; org: string | null } | null {
  const ctx = currentContext();
  return ctx ? { executionId: ctx.executionId, org: ctx.org?.slug ?? null } : null;
}
