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

/**
 * Executions in flight in this process, plus the most recent finished ones (an unhandled rejection is
 * reported after the execution that caused it may have returned), so process-level error handlers can
 * redact their secrets.
 */
const active = new Set<ExecutionContext>();
const recent: ExecutionContext[] = [];
const RECENT_MAX = 256;

/** Run `fn` as one execution: everything it awaits sees this context. */
export async function runInContext<T>(ctx: ExecutionContext, fn: () => Promise<T>): Promise<T> {
  active.add(ctx);
  try {
    return await storage.run(ctx, fn);
  } finally {
    active.delete(ctx);
    if (ctx.secrets.size > 0) {
      recent.push(ctx);
      if (recent.length > RECENT_MAX) recent.shift();
    }
  }
}

/** Every secret handed to a running or recently finished execution (for redacting process-level errors). */
export function activeSecrets(): string[] {
  const out: string[] = [];
  for (const ctx of active) out.push(...ctx.secrets);
  for (const ctx of recent) out.push(...ctx.secrets);
  return out;
}
