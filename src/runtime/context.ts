import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { NoExecutionContextError } from "../core/errors.js";
import type { Caller, ExecutionOrg, IntegrationResolver, ResolvedIntegration } from "./types.js";

/** Everything a running workflow is allowed to know about itself. */
export interface ExecutionContext {
  readonly executionId: string;
  readonly org: ExecutionOrg | null;
  readonly caller: Caller;
  readonly resolver: IntegrationResolver;
  /** Per-execution cache of `integrations.get()` results, keyed by org id + name. */
  readonly cache: Map<string, Promise<ResolvedIntegration | null>>;
  /** Secret plaintexts handed to this execution, for redacting its errors. */
  readonly secrets: Set<string>;
}

/**
 * One AsyncLocalStorage per process, even if two copies of this module are loaded
 * (a workflow folder with its own install): the instance lives on a global symbol.
 */
const KEY = Symbol.for("bifrost.executionContext.v1");
const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<ExecutionContext> | undefined>;
const storage: AsyncLocalStorage<ExecutionContext> = (holder[KEY] ??= new AsyncLocalStorage<ExecutionContext>());

export function currentContext(): ExecutionContext | undefined {
  return storage.getStore();
}

export function requireContext(what: string): ExecutionContext {
  const ctx = storage.getStore();
  if (!ctx) throw new NoExecutionContextError(what);
  return ctx;
}

export interface RunAsOptions {
  org: ExecutionOrg | null;
  caller: Caller;
  resolver: IntegrationResolver;
  executionId?: string;
}

export function createContext(opts: RunAsOptions): ExecutionContext {
  return {
    executionId: opts.executionId ?? randomUUID(),
    org: opts.org,
    caller: opts.caller,
    resolver: opts.resolver,
    cache: new Map(),
    secrets: new Set(),
  };
}

/** Run `fn` as one execution: everything it awaits sees this context. */
export function runInContext<T>(ctx: ExecutionContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(ctx, fn);
}
