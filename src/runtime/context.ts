import { AsyncLocalStorage } from "node:async_hooks";
import { NoExecutionContextError } from "../core/errors.js";
import { nodeCrypto } from "../core/node-crypto.js";
import type { ExecutionOrg } from "../kernel/types.js";
import type { Caller, IntegrationResolver, OutputSink, ResolvedIntegration } from "./types.js";

/** Everything a running workflow is allowed to know about itself. */
export interface ExecutionContext {
  readonly executionId: string;
  readonly org: ExecutionOrg | null;
  readonly caller: Caller;
  readonly resolver: IntegrationResolver;
  /** Per-execution cache of `integrations.get()` results, keyed by org id + name. */
  readonly cache: Map<string, Promise<ResolvedIntegration | null>>;
  /** Secret plaintexts handed to this execution, for redacting its errors and console output. */
  readonly secrets: Set<string>;
  /** Where this execution's console output goes (redacted); default: printed with its execution id. */
  readonly output?: OutputSink;
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
  /** Sink for the execution's console output (see output.ts); default: printed with the execution id. */
  output?: OutputSink;
}

export function createContext(opts: RunAsOptions): ExecutionContext {
  return {
    executionId: opts.executionId ?? nodeCrypto().randomUUID(),
    org: opts.org,
    caller: opts.caller,
    resolver: opts.resolver,
    cache: new Map(),
    secrets: new Set(),
    ...(opts.output ? { output: opts.output } : {}),
  };
}

/**
 * Every execution whose context is still reachable, held weakly. A context stays reachable while the
 * execution runs and afterwards as long as any timer, promise or callback it started is pending
 * (AsyncLocalStorage keeps it on those resources); once none is left it is garbage-collected and its
 * entry removed. So memory is bounded by the work still alive, not by how many executions ran.
 */
const live = new Set<WeakRef<ExecutionContext>>();
const finalizer = new FinalizationRegistry<WeakRef<ExecutionContext>>((ref) => live.delete(ref));

/** Run `fn` as one execution: everything it awaits (and every timer and callback it starts) sees this context. */
export async function runInContext<T>(ctx: ExecutionContext, fn: () => Promise<T>): Promise<T> {
  const ref = new WeakRef(ctx);
  live.add(ref);
  finalizer.register(ctx, ref);
  return storage.run(ctx, fn);
}

/**
 * Every secret handed to an execution whose context is still reachable (running, or with async work
 * left). For redacting process-level errors that no execution context claims; an error that one does
 * claim is redacted with that execution's own secrets (see process-guards.ts).
 */
export function activeSecrets(): string[] {
  const out: string[] = [];
  for (const ref of live) {
    const ctx = ref.deref();
    if (ctx) out.push(...ctx.secrets);
    else live.delete(ref);
  }
  return out;
}
