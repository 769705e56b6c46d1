/**
 * What crosses the boundary between the host thread and a workflow worker (structured clone: Maps,
 * Dates and plain objects survive; classes and functions do not). A ResolvedIntegration travels as
 * its parts and is rebuilt in the worker with the same `IntegrationConfig` (typo guard, masking),
 * trust record and `fetch()`; errors travel as their code, status, message and details and are
 * rebuilt as the same error classes.
 */
import { BifrostError, type ErrorDetails } from "../core/errors.js";
import type { ExecutionOrg, OAuthConnectionStatus, OAuthCredentials } from "../kernel/types.js";
import { IntegrationConfig } from "../runtime/config-map.js";
import { makeResolved, type TrustRecord, trustOf } from "../runtime/resolved.js";
import type { Caller, ResolvedIntegration, WorkflowOutput } from "../runtime/types.js";
import type { ExecutionResult } from "../runtime/execute.js";
import type { ProcessFault } from "../runtime/process-guards.js";
import { clientFetch } from "./client-fetch.js";
import { errorFromEnvelope } from "./remote-resolver.js";

export interface WireResolved {
  name: string;
  entityId: string | null;
  entityName: string | null;
  mapped: boolean;
  config: ConstructorParameters<typeof IntegrationConfig>;
  oauth: OAuthCredentials | null;
  connection: OAuthConnectionStatus | null;
  trust: TrustRecord;
}

export interface WireError {
  code: string;
  status: number;
  message: string;
  details?: ErrorDetails;
}

export function resolvedToWire(integ: ResolvedIntegration): WireResolved {
  return {
    name: integ.name,
    entityId: integ.entityId,
    entityName: integ.entityName,
    mapped: integ.mapped,
    config: IntegrationConfig.parts(integ.config),
    oauth: integ.oauth,
    connection: integ.connection,
    trust: trustOf(integ),
  };
}

export function resolvedFromWire(w: WireResolved): ResolvedIntegration {
  return makeResolved(
    { name: w.name, entityId: w.entityId, entityName: w.entityName, mapped: w.mapped, config: new IntegrationConfig(...w.config), oauth: w.oauth, connection: w.connection },
    w.trust,
    clientFetch,
  );
}

/**
 * A BifrostError as its envelope parts; anything else as a generic failure whose message the caller
 * has already redacted (`message`), never the raw error.
 */
export function errorToWire(err: unknown, fallback: string): WireError {
  if (err instanceof BifrostError) return { code: err.code, status: err.statusCode, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  return { code: "BIFROST_WORKFLOW_FAILED", status: 500, message: fallback };
}

export function errorFromWire(w: WireError): BifrostError {
  return errorFromEnvelope(w.status, w);
}

/**
 * A resolved integration the worker may reuse (host/workflow-pool.ts): while the shared epoch still
 * equals `epoch` and Date.now() < `until`. `index` names it in the read log; `secret`: each reuse
 * hands out secrets, so it is logged (the host records the read).
 */
export interface WireLease {
  index: number;
  epoch: number;
  until: number;
  secret: boolean;
}

/** Reuses one execution may log before the rest go as "read" messages. */
const READ_LOG_SIZE = 64;

/**
 * The leases that hand out secrets a worker's current execution reused, in shared memory: the worker
 * appends (`log`), the host reads them when the execution ends, however it ends (a terminated
 * worker's memory stays readable), and clears the log before the next one. Cell 0 counts; cells
 * 1…READ_LOG_SIZE hold lease indexes.
 */
export class ReadLog {
  readonly cells: Int32Array;
  constructor(cells: Int32Array = new Int32Array(new SharedArrayBuffer(4 * (READ_LOG_SIZE + 1)))) {
    this.cells = cells;
  }

  /** Worker side: false when the log is full (send a "read" message instead). */
  log(index: number): boolean {
    const n = Atomics.add(this.cells, 0, 1);
    if (n >= READ_LOG_SIZE) return false;
    Atomics.store(this.cells, n + 1, index);
    return true;
  }

  /** Host side: the logged indexes. */
  entries(): number[] {
    const n = Math.min(Atomics.load(this.cells, 0), READ_LOG_SIZE);
    const out: number[] = [];
    for (let i = 1; i <= n; i++) out.push(Atomics.load(this.cells, i));
    return out;
  }

  clear(): void {
    Atomics.store(this.cells, 0, 0);
  }
}

/** Host → worker. */
export type ToWorker =
  /** `workflow`: its name; undefined = the file's only workflow. `module`: what the worker imports for `file` (loader.ts workflowModule). */
  /** `announce`: reply "started" with the workflow's name and limit (the host did not load the file itself). */
  /** `epochs`: the resolver's shared cache epoch, when the worker does not have it yet (it then drops every lease it holds). */
  | { type: "run"; executionId: string; file: string; module: string; workflow: string | undefined; input: unknown; org: ExecutionOrg | null; caller: Caller; announce: boolean; epochs?: Int32Array }
  | { type: "answer"; rid: number; ok: true; value: unknown; lease?: WireLease }
  | { type: "answer"; rid: number; ok: false; error: WireError };

/** The resolver calls a worker makes; answered by the host's resolver. */
export type ResolverCall =
  | { method: "resolve"; args: [name: string, org: ExecutionOrg | null] }
  | { method: "list"; args: [org: ExecutionOrg | null] }
  | { method: "findOrg"; args: [slug: string] }
  | { method: "refreshOAuth"; args: [name: string, org: ExecutionOrg | null, seenAccessToken: string] };

/** Worker → host. */
export type FromWorker =
  | { type: "ready" }
  | ({ type: "call"; rid: number; executionId: string } & ResolverCall)
  /** The workflow was loaded and starts now; its own time limit, when it declares one. */
  | { type: "started"; executionId: string; workflow: string; timeoutMs: number | null }
  | { type: "output"; output: WorkflowOutput }
  /** The execution reused a leased integration that hands out secrets, and its read log was full. */
  | { type: "read"; executionId: string; index: number }
  | { type: "fault"; fault: ProcessFault }
  | { type: "crash"; fault: ProcessFault }
  /**
   * `clean`: nothing the execution started is still pending, so the worker may serve its principal again;
   * `heapBytes`: the worker's heap in use afterwards (a worker holding too much is retired).
   */
  | { type: "done"; executionId: string; clean: boolean; heapBytes: number; ok: true; result: ExecutionResult }
  | { type: "done"; executionId: string; clean: boolean; heapBytes: number; ok: false; error: WireError };
