/**
 * Workflow containment (DESIGN §9.5): every execution of a workflow loaded from a file runs in a
 * worker thread with a time limit, a heap limit and a concurrency limit with a bounded queue.
 *
 * - A worker runs one execution at a time. On a timeout it is terminated (V8 stops even `while(true){}`)
 *   and the caller gets BIFROST_WORKFLOW_TIMEOUT; when it dies (process.exit(), an uncaught exception,
 *   the heap limit) BIFROST_WORKFLOW_CRASHED. Either way the worker is gone: the next execution
 *   gets another.
 * - Warm reuse, by principal: a worker that finished cleanly (nothing it started still pending, no
 *   unhandled error) serves the next execution of the same principal only (org, caller kind, key,
 *   platform flag): whatever an execution left in module or global state is visible only to a caller
 *   who could read the same integrations anyway. Another principal gets a blank worker (one is kept
 *   started as a spare) or a new one.
 * - The worker's resolver is this thread's resolver (see workflow-worker.ts): caching, OAuth refresh
 *   and its single-flight stay in one place.
 * - Definitions built in code (no source file: `ServerOptions.workflows`, embedding, tests) cannot
 *   cross a thread boundary; they run in this thread with the same concurrency limit and a time limit
 *   that answers the caller but cannot stop the code.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { BifrostError, BusyError, WorkflowError } from "../core/errors.js";
import { cliBundleDir } from "../core/package-info.js";
import { executeWorkflow, type ExecutionResult } from "../runtime/execute.js";
import { loadWorkflowFile, pickWorkflow, workflowModule, workflowSource } from "../runtime/loader.js";
import { printOutput, writeRaw } from "../runtime/output.js";
import type { ProcessFault } from "../runtime/process-guards.js";
import type { Caller, IntegrationResolver, OutputSink, ResolvedIntegration } from "../runtime/types.js";
import { type AuditContext, auditContext, withAuditContext } from "../kernel/audit.js";
import type { WorkflowDefinition } from "../runtime/workflow.js";
import type { ExecutionOrg } from "../kernel/types.js";
import { type WorkflowLimits, workflowLimits } from "./workflow-limits.js";
import { errorFromWire, errorToWire, type FromWorker, ReadLog, resolvedToWire, type ToWorker, type WireLease, type WireResolved } from "./workflow-wire.js";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";

export interface RunOptions {
  org: ExecutionOrg | null;
  caller: Caller;
  resolver: IntegrationResolver;
  executionId?: string;
  /** The execution's console output (redacted in the worker); default: printed with the execution id. */
  output?: OutputSink;
  /** An error the execution left unhandled (redacted); default: the runner's `onFault`. */
  onFault?: (fault: ProcessFault) => void;
}

export interface RunnerOptions {
  limits?: WorkflowLimits;
  /** Workflow modules (loader.ts workflowModule) a new worker imports before it is used (start-up off the request path). */
  preload?: ReadonlyArray<{ file: string; module: string }>;
  /** "in-process": no workers (for comparison in benchmarks); default "worker". */
  isolation?: "worker" | "in-process";
  /** Keep one blank worker started for the next new principal (default true; `bifrost run` runs one execution). */
  spare?: boolean;
  /**
   * Linux: run workers at nice 10 so CPU-bound workflows yield to this thread (a server's HTTP and
   * health checks). Default true; `bifrost run` turns it off (its worker is the work).
   */
  lowerPriority?: boolean;
  /** Faults no execution option handles; default: written to stderr. */
  onFault?: (fault: ProcessFault) => void;
}

/**
 * A worker is retired after this many executions, or earlier once its heap after an execution holds more
 * than half its limit (bounds what a long-lived isolate accumulates). A start costs tens to hundreds of
 * milliseconds of CPU (a new isolate, the TypeScript loader, the workflow's modules): retiring every few
 * hundred executions spent a large part of a busy server's cores on starting workers.
 */
const MAX_RUNS_PER_WORKER = 10_000;
/** Environment a worker does not get: the keyring, database and API credentials stay in the host thread. */
const HOST_ONLY_ENV = /^(BIFROST_KEYRING.*|DATABASE_URL|BIFROST_API_KEY|BIFROST_WEBHOOK_SECRET|BIFROST_TEST_DATABASE_URL|PG.*)$/;

interface Inflight {
  executionId: string;
  /** The workflow's name (its file until the worker loaded it). */
  workflow: string;
  opts: RunOptions;
  timeoutMs: number;
  settle: (err: BifrostError | null, res?: ExecutionResult) => void;
  timer: NodeJS.Timeout | undefined;
  crash: ProcessFault | null;
  error: Error | null;
  /** Who asked for the execution (the request's actor and id): what the execution reads is recorded under it. */
  audit: AuditContext;
  /** The integrations (org + name) whose secret read this execution already recorded. */
  reads: Set<string>;
}

/** A resolved integration leased to a worker (see #lease). */
interface Lease {
  resolved: ResolvedIntegration;
  org: ExecutionOrg | null;
  /** Org + name: a read is recorded once per execution per key. */
  key: string;
}

/** Leases granted to one worker before both sides start over (at the next execution's start). */
const MAX_LEASES = 1_000;

interface Slot {
  worker: Worker;
  principal: string | null;
  ready: Promise<void>;
  runs: number;
  current: Inflight | null;
  gone: boolean;
  /** The shared cache epoch this worker was given (a run message brings it when it changes). */
  epochs: Int32Array | null;
  /** Leases granted to this worker, by index (what the read log names). */
  leases: Lease[];
  /** Shared with the worker: the leases that hand out secrets its current execution reused (ReadLog in workflow-wire.ts). */
  readLog: ReadLog;
}

/**
 * Where the worker entry is: the CLI bundle's own (dist/bundle/workflow-worker.cjs, which runs the bundle's
 * runtime file with its code cache, so a workflow and the worker share the bundle's SDK), the compiled .js
 * next to this module, or (tests, tsx) the .ts started through tsx.
 */
function startWorker(options: ConstructorParameters<typeof Worker>[1]): Worker {
  const bundleDir = cliBundleDir();
  if (bundleDir !== null) return new Worker(join(bundleDir, "workflow-worker.cjs"), options);
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./workflow-worker.js", self), options);
  // tsx's ES module entry ("import" condition); createRequire resolves the CommonJS twin next to it.
  const tsx = pathToFileURL(createRequire(self).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const entry = new URL("./workflow-worker.ts", self).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), options);
}

/** Who an execution runs as (org id, caller kind, platform flag, key id); "-" marks an absent org or key (ids are never "-"). */
function principalOf(org: ExecutionOrg | null, caller: Caller): string {
  return `${org?.id ?? "-"}\u0000${caller.kind}\u0000${caller.platform ? 1 : 0}\u0000${caller.keyId ?? "-"}`;
}

const defaultFault = (f: ProcessFault): void => writeRaw("stderr", `error [BIFROST_WORKFLOW_FAILED]: ${f.kind} in the workflow${f.executionId ? ` (execution ${f.executionId})` : ""}: ${f.message}\n`);

/** Runs workflow executions under the limits; one per server or `bifrost run`. */
export class WorkflowRunner {
  readonly limits: WorkflowLimits;
  readonly #preload: ReadonlyArray<{ file: string; module: string }>;
  readonly #isolation: "worker" | "in-process";
  readonly #onFault: (fault: ProcessFault) => void;
  readonly #spare: boolean;
  readonly #lowerPriority: boolean;
  readonly #slots = new Set<Slot>();
  readonly #idle: Slot[] = [];
  readonly #waiting: Array<() => void> = [];
  #active = 0;
  #closed = false;
  /** Recent execution time (ms, moving average) for Retry-After. */
  #avgMs = 1000;

  constructor(opts: RunnerOptions = {}) {
    this.limits = opts.limits ?? workflowLimits();
    this.#preload = opts.preload ?? [];
    this.#isolation = opts.isolation ?? "worker";
    this.#onFault = opts.onFault ?? defaultFault;
    this.#spare = opts.spare ?? true;
    this.#lowerPriority = opts.lowerPriority ?? true;
  }

  /** Workers started (busy, idle and spare). */
  get workers(): number {
    return this.#slots.size;
  }

  /** Start the spare worker now (the first execution then needs no start-up). */
  warm(): void {
    if (this.#isolation === "worker" && !this.#closed) this.#topUpSpare(true);
  }

  /** Run a loaded workflow: in a worker when it came from a file, else in this thread (see the module comment). */
  run(def: WorkflowDefinition, input: unknown, opts: RunOptions): Promise<ExecutionResult> {
    const file = workflowSource(def);
    const timeoutMs = def.timeoutMs ?? this.limits.timeoutMs;
    return this.#limited(opts, (o) =>
      file === undefined || this.#isolation === "in-process" ? this.#inProcess(def, input, o, timeoutMs) : this.#inWorker(file, def.name, input, o, timeoutMs, true),
    );
  }

  /**
   * Run the workflow `name` of `file` (undefined: its only one) without loading it in this thread: the
   * worker loads it, picks it (BIFROST_WORKFLOW_LOAD when missing or ambiguous) and reports its time limit.
   */
  runFile(file: string, name: string | undefined, input: unknown, opts: RunOptions): Promise<ExecutionResult> {
    if (this.#isolation === "in-process") {
      return this.#limited(opts, async (o) => {
        const def = pickWorkflow(file, await loadWorkflowFile(file), name);
        return this.#inProcess(def, input, o, def.timeoutMs ?? this.limits.timeoutMs);
      });
    }
    // A missing file is reported without starting a worker (same message as the loader's).
    if (!existsSync(file)) return Promise.reject(new WorkflowError("BIFROST_WORKFLOW_LOAD", `Cannot load workflow file ${file}: file not found`, { file }));
    return this.#limited(opts, (o) => this.#inWorker(file, name, input, o, this.limits.timeoutMs, false));
  }

  async #limited(opts: RunOptions, fn: (o: RunOptions & { executionId: string }) => Promise<ExecutionResult>): Promise<ExecutionResult> {
    await this.#acquire();
    const started = Date.now();
    try {
      return await fn({ ...opts, executionId: opts.executionId ?? randomUUID() });
    } finally {
      this.#avgMs = 0.8 * this.#avgMs + 0.2 * (Date.now() - started);
      this.#release();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w();
    await Promise.all([...this.#slots].map((s) => this.#retire(s)));
  }

  async #acquire(): Promise<void> {
    if (this.#closed) throw new WorkflowError("BIFROST_WORKFLOW_CRASHED", "The server is shutting down; the workflow was not started.", { reason: "shutdown" });
    if (this.#active < this.limits.concurrency) {
      this.#active++;
      return;
    }
    if (this.#waiting.length >= this.limits.queue) {
      const retryAfter = Math.min(60, Math.max(1, Math.ceil((this.#avgMs * (this.#waiting.length / this.limits.concurrency + 1)) / 1000)));
      throw new BusyError(
        `Every workflow slot is busy (${this.limits.concurrency} running, ${this.#waiting.length} waiting; BIFROST_WORKFLOW_CONCURRENCY). Retry after ${retryAfter} s.`,
        { retryAfter, concurrency: this.limits.concurrency, queued: this.#waiting.length },
      );
    }
    // The slot is handed over by #release (the active count stays).
    await new Promise<void>((r) => this.#waiting.push(r));
    if (this.#closed) throw new WorkflowError("BIFROST_WORKFLOW_CRASHED", "The server is shutting down; the workflow was not started.", { reason: "shutdown" });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }

  async #inProcess(def: WorkflowDefinition, input: unknown, opts: RunOptions & { executionId: string }, timeoutMs: number): Promise<ExecutionResult> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_ok, fail) => {
      timer = setTimeout(() => fail(timeoutError(def.name, opts.executionId, timeoutMs)), timeoutMs);
    });
    try {
      return await Promise.race([executeWorkflow(def, input, opts), limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  #spawn(principal: string | null): Slot {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!HOST_ONLY_ENV.test(k)) env[k] = v;
    const readLog = new ReadLog();
    const worker = startWorker({ workerData: { preload: this.#preload, lowerPriority: this.#lowerPriority, readLog: readLog.cells }, env, resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb } });
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    const ready = new Promise<void>((ok, fail) => {
      onReady = ok;
      onFail = fail;
    });
    ready.catch(() => undefined);
    const slot: Slot = { worker, principal, ready, runs: 0, current: null, gone: false, epochs: null, leases: [], readLog };
    this.#slots.add(slot);
    worker.on("message", (m: FromWorker) => this.#onMessage(slot, m, onReady));
    worker.on("error", (err) => {
      if (slot.current) slot.current.error = err;
      onFail(err);
    });
    worker.on("exit", (code) => {
      slot.gone = true;
      this.#forget(slot);
      onFail(new Error(`the workflow worker exited (code ${code}) before it was ready`));
      const cur = slot.current;
      if (cur) {
        slot.current = null;
        this.#recordReads(slot, cur);
        cur.settle(crashError(cur, code, this.limits.memoryMb));
      }
    });
    worker.unref();
    return slot;
  }

  #forget(slot: Slot): void {
    this.#slots.delete(slot);
    const i = this.#idle.indexOf(slot);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  async #retire(slot: Slot): Promise<void> {
    this.#forget(slot);
    if (!slot.gone) await slot.worker.terminate();
  }

  /** The first principal served; once a second one shows up, a spare is kept for the next new one. */
  #firstPrincipal: string | null = null;
  #manyPrincipals = false;

  #topUpSpare(now = this.#manyPrincipals): void {
    if (!now || !this.#spare || this.#closed || this.#idle.some((s) => s.principal === null)) return;
    if (this.#slots.size >= this.limits.concurrency + 1) return;
    this.#idle.push(this.#spawn(null));
  }

  /** An idle worker of this principal, else the blank spare, else a new one (retiring the oldest idle worker when full). */
  #take(principal: string): Slot {
    this.#firstPrincipal ??= principal;
    if (principal !== this.#firstPrincipal) this.#manyPrincipals = true;
    let i = this.#idle.findLastIndex((s) => s.principal === principal);
    if (i < 0) i = this.#idle.findIndex((s) => s.principal === null);
    let slot: Slot;
    if (i >= 0) {
      slot = this.#idle.splice(i, 1)[0] as Slot;
    } else {
      while (this.#idle.length > 0 && this.#slots.size >= this.limits.concurrency + 1) void this.#retire(this.#idle.shift() as Slot);
      slot = this.#spawn(principal);
    }
    slot.principal = principal;
    // A worker in use keeps the process alive (`bifrost run` awaits it); idle ones do not.
    slot.worker.ref();
    this.#topUpSpare();
    return slot;
  }

  /**
   * `known`: the host loaded the definition itself, so `workflow` is its name and `timeoutMs` its own
   * limit, and the worker need not announce them (one message less per execution).
   */
  async #inWorker(file: string, workflow: string | undefined, input: unknown, opts: RunOptions & { executionId: string }, timeoutMs: number, known: boolean): Promise<ExecutionResult> {
    const label = workflow ?? file;
    const audit = auditContext();
    // Built (or found in the cache) here, before a worker is taken: the worker imports one plain ES module.
    const module = await workflowModule(file);
    const slot = this.#take(principalOf(opts.org, opts.caller));
    try {
      await slot.ready;
    } catch {
      void this.#retire(slot);
      throw new WorkflowError("BIFROST_WORKFLOW_CRASHED", `The worker for workflow "${label}" could not start (execution ${opts.executionId}).`, { executionId: opts.executionId, reason: "start" });
    }
    return new Promise<ExecutionResult>((ok, fail) => {
      const inflight: Inflight = {
        executionId: opts.executionId,
        workflow: label,
        opts,
        timeoutMs,
        timer: undefined,
        crash: null,
        error: null,
        audit,
        reads: new Set(),
        settle: (err, res) => {
          clearTimeout(inflight.timer);
          if (err) fail(err);
          else ok(res as ExecutionResult);
        },
      };
      slot.current = inflight;
      slot.runs++;
      this.#arm(slot, inflight);
      const msg: ToWorker = { type: "run", executionId: opts.executionId, file, module, workflow, input, org: opts.org, caller: opts.caller, announce: !known };
      const epochs = opts.resolver.share?.()?.epochs ?? null;
      if (epochs !== slot.epochs || slot.leases.length >= MAX_LEASES) {
        // Another resolver, the first run, or every lease index used: the worker drops the leases it holds.
        slot.epochs = epochs;
        slot.leases = [];
        if (epochs) msg.epochs = epochs;
      }
      slot.readLog.clear();
      try {
        slot.worker.postMessage(msg);
      } catch (err) {
        // The input could not be cloned (it came from JSON, so this does not happen for HTTP and CLI callers).
        slot.current = null;
        void this.#retire(slot);
        inflight.settle(new WorkflowError("BIFROST_WORKFLOW_FAILED", `The input of workflow "${label}" cannot be sent to its worker: ${(err as Error).message}`, { executionId: opts.executionId }));
      }
    });
  }

  /** (Re)start the execution's time limit: at the start, and once the worker says which limit the workflow declares. */
  #arm(slot: Slot, inflight: Inflight): void {
    clearTimeout(inflight.timer);
    inflight.timer = setTimeout(() => {
      if (slot.current !== inflight) return;
      slot.current = null;
      void this.#retire(slot);
      this.#recordReads(slot, inflight);
      inflight.settle(timeoutError(inflight.workflow, inflight.executionId, inflight.timeoutMs));
    }, inflight.timeoutMs);
  }

  #onMessage(slot: Slot, m: FromWorker, onReady: () => void): void {
    const cur = slot.current;
    switch (m.type) {
      case "ready":
        onReady();
        return;
      case "started":
        if (!cur || cur.executionId !== m.executionId) return;
        cur.workflow = m.workflow;
        cur.timeoutMs = m.timeoutMs ?? this.limits.timeoutMs;
        this.#arm(slot, cur);
        return;
      case "output":
        if (cur?.executionId === m.output.executionId) (cur.opts.output ?? printOutput)(m.output);
        return;
      case "fault":
        (cur?.executionId === m.fault.executionId && cur.opts.onFault ? cur.opts.onFault : this.#onFault)(m.fault);
        return;
      case "crash":
        if (cur) cur.crash = m.fault;
        return;
      case "call":
        if (!cur || cur.executionId !== m.executionId) return;
        void this.#answer(slot, cur, m);
        return;
      case "read":
        // A reuse the read log had no room for.
        if (cur?.executionId === m.executionId) this.#recordRead(slot, cur, m.index);
        return;
      case "done": {
        if (!cur || cur.executionId !== m.executionId) return;
        slot.current = null;
        this.#recordReads(slot, cur);
        if (m.ok) cur.settle(null, m.result);
        else cur.settle(errorFromWire(m.error));
        if (m.clean && slot.runs < MAX_RUNS_PER_WORKER && m.heapBytes <= this.limits.memoryMb * 524_288 && !this.#closed) {
          slot.worker.unref();
          this.#idle.push(slot);
        } else void this.#retire(slot);
        return;
      }
    }
  }

  async #answer(slot: Slot, cur: Inflight, m: Extract<FromWorker, { type: "call" }>): Promise<void> {
    const resolver = cur.opts.resolver;
    let reply: ToWorker;
    try {
      // What the call records (secret reads, refreshes) names the execution and the request that started it.
      reply = await withAuditContext({ ...cur.audit, executionId: cur.executionId }, async (): Promise<ToWorker> => {
        if (m.method === "resolve") {
          const r = await resolver.resolve(...m.args);
          if (!r) return { type: "answer", rid: m.rid, ok: true, value: null };
          const lease = this.#lease(slot, cur, resolver, m.args[0], m.args[1], r);
          return { type: "answer", rid: m.rid, ok: true, value: wireOf(r), ...(lease ? { lease } : {}) };
        }
        let value: unknown;
        if (m.method === "list") value = await resolver.list(...m.args);
        else if (m.method === "findOrg") value = await resolver.findOrg(...m.args);
        else value = resolver.refreshOAuth ? await resolver.refreshOAuth(...m.args) : null;
        return { type: "answer", rid: m.rid, ok: true, value };
      });
    } catch (err) {
      reply = { type: "answer", rid: m.rid, ok: false, error: errorToWire(err, `integrations.${m.method}() failed inside Bifrost; the server log has the details.`) };
    }
    if (!slot.gone) slot.worker.postMessage(reply);
  }

  /**
   * Lease `r` to the worker when the resolver's cache holds it: the worker then reuses it without a
   * round trip for as long as this thread's cache would serve it (same expiry; void once the shared
   * epoch moves). The resolver already recorded this execution's read of it.
   */
  #lease(slot: Slot, cur: Inflight, resolver: IntegrationResolver, name: string, org: ExecutionOrg | null, r: ResolvedIntegration): WireLease | null {
    const share = resolver.share?.();
    if (!share || share.epochs !== slot.epochs) return null;
    const granted = share.lease(name, org, r);
    if (!granted) return null;
    // Indexes are never reused while the worker may hold them (they start over at an execution's start).
    if (slot.leases.length >= MAX_LEASES) return null;
    const key = `${org?.id ?? ""}\u0000${name}`;
    const index = slot.leases.push({ resolved: r, org, key }) - 1;
    cur.reads.add(key);
    return { index, ...granted };
  }

  /**
   * Record the secret reads of leases the execution reused (from the read log, which stays readable
   * after a time-out or a crash), once per execution and integration, under the execution's own audit
   * context. Indexes of leases this worker was not granted are ignored.
   */
  #recordReads(slot: Slot, cur: Inflight): void {
    for (const index of slot.readLog.entries()) this.#recordRead(slot, cur, index);
  }

  #recordRead(slot: Slot, cur: Inflight, index: number): void {
    const lease = slot.leases[index];
    const share = cur.opts.resolver.share?.();
    if (!lease || !share || cur.reads.has(lease.key)) return;
    cur.reads.add(lease.key);
    withAuditContext({ ...cur.audit, executionId: cur.executionId }, () => share.recordRead(lease.resolved, lease.org));
  }
}

/** Wire forms of resolved integrations: a cached integration is sent to many executions, converted once. */
const wired = new WeakMap<ResolvedIntegration, WireResolved>();

function wireOf(r: ResolvedIntegration): WireResolved {
  let w = wired.get(r);
  if (!w) {
    w = resolvedToWire(r);
    wired.set(r, w);
  }
  return w;
}

function timeoutError(workflow: string, executionId: string, timeoutMs: number): WorkflowError {
  return new WorkflowError(
    "BIFROST_WORKFLOW_TIMEOUT",
    `Workflow "${workflow}" ran longer than its time limit of ${timeoutMs} ms and was stopped (execution ${executionId}). Raise it with workflow(name, fn, { timeoutMs }) or BIFROST_WORKFLOW_TIMEOUT_MS.`,
    { executionId, timeoutMs },
  );
}

function crashError(cur: Inflight, code: number, memoryMb: number): WorkflowError {
  const base = `Workflow "${cur.workflow}" crashed (execution ${cur.executionId})`;
  if (cur.crash) {
    return new WorkflowError("BIFROST_WORKFLOW_CRASHED", `${base}: an exception nothing caught: ${cur.crash.message.split("\n")[0] ?? ""}`, { executionId: cur.executionId, reason: "uncaught" });
  }
  if ((cur.error as NodeJS.ErrnoException | null)?.code === "ERR_WORKER_OUT_OF_MEMORY") {
    return new WorkflowError("BIFROST_WORKFLOW_CRASHED", `${base}: it used more than the memory limit of ${memoryMb} MB (BIFROST_WORKFLOW_MEMORY_MB) and was stopped.`, {
      executionId: cur.executionId,
      reason: "memory",
      memoryMb,
    });
  }
  if (cur.error) return new WorkflowError("BIFROST_WORKFLOW_CRASHED", `${base}: its worker failed.`, { executionId: cur.executionId, reason: "worker" });
  return new WorkflowError("BIFROST_WORKFLOW_CRASHED", `${base}: it called process.exit(${code}).`, { executionId: cur.executionId, reason: "exit", exitCode: code });
}
