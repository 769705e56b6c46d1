/**
 * What a workflow worker thread (started by workflow-pool.ts) runs: `serveWorkflowThread()`, called by
 * the worker entry (workflow-worker.ts, or the CLI bundle runtime file's `workflowWorker`). It imports the plain ES module
 * the host thread built for each workflow file (src/runtime/workflow-build.ts: no loader hooks here), runs one execution at a time with
 * `executeWorkflow` (execution context, output capture and redaction, result checks as in-process),
 * and asks the host thread for everything the resolver does: the host's own resolver answers, so
 * caching, OAuth refresh (one per credential) and redaction stay as they are.
 */
import { readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { getPriority, setPriority } from "node:os";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { ExecutionOrg, OAuthCredentials } from "../kernel/types.js";
import { executeWorkflow } from "../runtime/execute.js";
import { importWorkflowModule, pickWorkflow } from "../runtime/loader.js";
import { installProcessGuards } from "../runtime/process-guards.js";
import type { IntegrationResolver, IntegrationSummary, ResolvedIntegration } from "../runtime/types.js";
import type { WorkflowDefinition } from "../runtime/workflow.js";
import { errorFromWire, errorToWire, type FromWorker, ReadLog, type ResolverCall, resolvedFromWire, type ToWorker, type WireLease, type WireResolved } from "./workflow-wire.js";

/** bin/code-cache.js: set while this thread's code cache is waiting to be written. */
const CODE_CACHE_SAVE_NOW = Symbol.for("bifrost.codeCacheSaveNow");

/** This thread's port to the host: set by serveWorkflowThread(). */
let port: MessagePort;

/**
 * Linux: lower this thread's scheduling priority (nice 10), so a CPU-bound workflow yields the cores to
 * the server's own thread (HTTP, health checks, the resolver) when both want them. Elsewhere, or when
 * refused, nothing changes.
 */
function yieldToHost(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, Math.max(getPriority(tid), 10));
  } catch {
    // not Linux, or not permitted
  }
}

const post = (m: FromWorker): void => port.postMessage(m);

type Answer = Extract<ToWorker, { type: "answer"; ok: true }>;
const pending = new Map<number, { ok: (a: Answer) => void; fail: (e: Error) => void }>();
let nextRid = 1;

function call(executionId: string, c: ResolverCall): Promise<Answer> {
  const rid = nextRid++;
  return new Promise((ok, fail) => {
    pending.set(rid, { ok, fail });
    post({ type: "call", rid, executionId, ...c });
  });
}

/**
 * Resolved integrations the host leased to this worker (see workflow-pool.ts): reused without asking
 * while the host's cache would still serve them (same shared epoch, not expired). Only integrations
 * without OAuth are leased; each reuse of one that hands out secrets is logged in the read log.
 */
const leases = new Map<string, { resolved: ResolvedIntegration; lease: WireLease }>();
/** The host resolver's shared cache epoch (ChangeFeed.sharedEpoch), once a run message brought it. */
let epochs: Int32Array | null = null;
/** Where reuses of leases that hand out secrets are logged for the host (set from workerData). */
let readLog: ReadLog | null = null;
/** The execution this worker runs now (the host sends the next one only after this one's "done"). */
let running: string | null = null;

const leaseKey = (name: string, org: ExecutionOrg | null): string => `${org?.id ?? ""}\u0000${org?.slug ?? ""}\u0000${name}`;

/** The resolver of one execution: every call is answered by the host's resolver (or a lease it gave). */
class HostResolver implements IntegrationResolver {
  readonly #executionId: string;
  constructor(executionId: string) {
    this.#executionId = executionId;
  }
  async resolve(name: string, org: ExecutionOrg | null): Promise<ResolvedIntegration | null> {
    const key = leaseKey(name, org);
    const held = leases.get(key);
    // Only the running execution reuses leases: work a finished one left pending asks the host, which
    // answers only the execution it is running (the read log does not say whose read it is).
    if (held && this.#executionId === running && epochs !== null && Atomics.load(epochs, 0) === held.lease.epoch && Date.now() < held.lease.until) {
      if (held.lease.secret && !readLog?.log(held.lease.index)) post({ type: "read", executionId: this.#executionId, index: held.lease.index });
      return held.resolved;
    }
    const a = await call(this.#executionId, { method: "resolve", args: [name, org] });
    const resolved = a.value === null ? null : resolvedFromWire(a.value as WireResolved);
    if (resolved && a.lease) leases.set(key, { resolved, lease: a.lease });
    else leases.delete(key);
    return resolved;
  }
  async list(org: ExecutionOrg | null): Promise<IntegrationSummary[]> {
    return (await call(this.#executionId, { method: "list", args: [org] })).value as IntegrationSummary[];
  }
  async findOrg(slug: string): Promise<ExecutionOrg | null> {
    return (await call(this.#executionId, { method: "findOrg", args: [slug] })).value as ExecutionOrg | null;
  }
  async refreshOAuth(name: string, org: ExecutionOrg | null, seenAccessToken: string): Promise<OAuthCredentials | null> {
    return (await call(this.#executionId, { method: "refreshOAuth", args: [name, org, seenAccessToken] })).value as OAuthCredentials | null;
  }
}

/** Timers and immediates alive right now (what an execution could leave behind to run later). */
function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;
}

// A late error: reported to the host redacted with its execution's secrets. An uncaught exception ends
// the worker (the host reports BIFROST_WORKFLOW_CRASHED); an unhandled rejection is reported and the
// worker is not reused.
let faulted = false;

let executions = 0;
let heapStatistics: (() => { used_heap_size: number }) | null = null;

/**
 * V8's used_heap_size. The first execution reads it through process.memoryUsage() (node:v8 stays
 * unloaded: `bifrost run` runs one); a worker that serves more loads node:v8, whose reading costs
 * ~0.4 µs instead of ~9 µs (memoryUsage() also reads the resident set size from the kernel).
 */
function heapInUse(): number {
  if (executions++ === 0) return process.memoryUsage().heapUsed;
  heapStatistics ??= (createRequire(import.meta.url)("node:v8") as typeof import("node:v8")).getHeapStatistics;
  return heapStatistics().used_heap_size;
}

/** Definitions by module URL (a rebuilt workflow file is another URL). */
const loaded = new Map<string, Promise<WorkflowDefinition[]>>();
function load(file: string, module: string): Promise<WorkflowDefinition[]> {
  let p = loaded.get(module);
  if (!p) {
    p = importWorkflowModule(module, file);
    loaded.set(module, p);
    p.catch(() => loaded.delete(module));
  }
  return p;
}

async function run(m: Extract<ToWorker, { type: "run" }>): Promise<void> {
  running = m.executionId;
  const before = pendingTimers();
  let done: FromWorker;
  try {
    const def = pickWorkflow(m.file, await load(m.file, m.module), m.workflow);
    if (m.announce) post({ type: "started", executionId: m.executionId, workflow: def.name, timeoutMs: def.timeoutMs ?? null });
    const result = await executeWorkflow(def, m.input, {
      org: m.org,
      caller: m.caller,
      resolver: new HostResolver(m.executionId),
      executionId: m.executionId,
      output: (output) => post({ type: "output", output }),
    });
    done = { type: "done", executionId: m.executionId, clean: true, heapBytes: 0, ok: true, result };
  } catch (err) {
    // executeWorkflow throws BifrostErrors with the execution's secrets redacted.
    done = { type: "done", executionId: m.executionId, clean: true, heapBytes: 0, ok: false, error: errorToWire(err, `Workflow "${m.workflow ?? m.file}" failed.`) };
  }
  // Let rejections left unhandled surface (reported before the result), then judge what is left.
  await new Promise((r) => setImmediate(r));
  done.clean = !faulted && pendingTimers() <= before;
  done.heapBytes = heapInUse();
  // The CLI bundle's launcher (bin/code-cache.js) waits for this thread's exit to write its code caches,
  // but a worker is terminated, never exits: write them now (only those missing), with the functions
  // one execution compiled, before the host may terminate this thread on the answer.
  (globalThis as { [CODE_CACHE_SAVE_NOW]?: () => void })[CODE_CACHE_SAVE_NOW]?.();
  running = null;
  post(done);
}

/** Serve the host's executions on this worker thread until it is terminated. */
export function serveWorkflowThread(): void {
  if (!parentPort) throw new Error("serveWorkflowThread() runs only in a worker thread (see workflow-pool.ts).");
  port = parentPort;
  const data = workerData as { lowerPriority?: boolean; preload?: Array<{ file: string; module: string }>; readLog?: Int32Array } | undefined;
  if (data?.readLog) readLog = new ReadLog(data.readLog);
  if (data?.lowerPriority === true) yieldToHost();
  installProcessGuards((fault) => {
    faulted = true;
    if (fault.kind === "uncaughtException") {
      post({ type: "crash", fault });
      process.exit(1);
    }
    post({ type: "fault", fault });
  });
  port.on("message", (m: ToWorker) => {
    if (m.type === "run") {
      if (m.epochs !== undefined) {
        epochs = m.epochs;
        leases.clear();
      }
      void run(m);
      return;
    }
    const p = pending.get(m.rid);
    if (!p) return;
    pending.delete(m.rid);
    if (m.ok) p.ok(m);
    else p.fail(errorFromWire(m.error));
  });
  void Promise.allSettled((data?.preload ?? []).map((p) => load(p.file, p.module))).then(() => post({ type: "ready" }));
}
