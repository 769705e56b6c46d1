/**
 * The audit trail's recording side: who is acting (set once per request, tool call or CLI command) and
 * `recordAudit`, which the services call where a write happens, on the store of that write's
 * transaction so the entry commits (or rolls back) with the change.
 *
 * An entry names things (integration, org, config keys, API key ids) and never holds a value: callers
 * pass names and fixed facts only. See docs/operations.md "Audit trail".
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ValidationError } from "../core/errors.js";
import type { Store, StoredAuditActor, StoredAuditEntry } from "../storage/store.js";
import type { Clock } from "./clock.js";

import { AUDIT_ACTIONS, type AuditAction } from "../core/audit-actions.js";

export { AUDIT_ACTIONS, type AuditAction };

export type AuditActor =
  | { kind: "api_key"; keyId: string; keyPrefix: string; keyName: string; via: "api" | "console" | "mcp" }
  | { kind: "local_cli" }
  | { kind: "system" };

/** Who is acting and under which request id (HTTP request, MCP call; null for CLI commands and background work). */
export interface AuditContext {
  actor: AuditActor;
  requestId: string | null;
  /** The workflow execution acting (set by the resolver while it serves an execution). */
  executionId?: string | null;
}

export const LOCAL_CLI_CONTEXT: AuditContext = Object.freeze({ actor: Object.freeze({ kind: "local_cli" as const }), requestId: null });
export const SYSTEM_CONTEXT: AuditContext = Object.freeze({ actor: Object.freeze({ kind: "system" as const }), requestId: null });

const storage = new AsyncLocalStorage<AuditContext>();

/** Run `fn` acting as `ctx`: every audit entry recorded by what it awaits names this actor and request id. */
export function withAuditContext<T>(ctx: AuditContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The current actor; outside any context, the server itself ("system": background work). */
export function auditContext(): AuditContext {
  return storage.getStore() ?? SYSTEM_CONTEXT;
}

/** What one entry touched. Names only. */
export interface AuditTarget {
  integration?: { id: string; name: string } | null;
  /** The org by id and slug; with only `id`, the slug is looked up. */
  org?: { id: string; slug?: string } | null;
  /** Config key names, API key ids, keyring key ids: names, never values. */
  keys?: readonly string[];
  /** Fixed, non-secret facts (fields changed, flow, level, counts). */
  detail?: Readonly<Record<string, string | number | boolean | null | readonly string[]>>;
}

export interface AuditOptions {
  /** Attribute the entry to this actor instead of the current context's (e.g. the key that started an OAuth flow). */
  actor?: AuditActor;
}

function storedActor(a: AuditActor): StoredAuditActor {
  if (a.kind === "api_key") return { kind: "api_key", keyId: a.keyId, keyPrefix: a.keyPrefix, keyName: a.keyName, via: a.via };
  return { kind: a.kind, keyId: null, keyPrefix: null, keyName: null, via: null };
}

/** Build one entry: the current context's actor, request and execution; the org slug looked up when not given. */
async function makeEntry(deps: { store: Store; clock: Clock }, action: AuditAction, target: AuditTarget, opts: AuditOptions): Promise<StoredAuditEntry> {
  const pending: PendingEntry = { action, target, ctx: auditContext(), actor: opts.actor ?? null, at: deps.clock.now() };
  return entryOf(deps.clock, pending, await orgSlugOf(deps.store, target));
}

/** What an entry is built from, captured when the action happens (the entry itself may be built later). */
interface PendingEntry {
  action: AuditAction;
  target: AuditTarget;
  ctx: AuditContext;
  actor: AuditActor | null;
  at: string;
}

/** The target org's slug: as given, else looked up by id (null without an org, or when it is gone). */
async function orgSlugOf(store: Store, target: AuditTarget): Promise<string | null> {
  if (!target.org) return null;
  return target.org.slug ?? (await store.getOrgById(target.org.id))?.slug ?? null;
}

/**
 * A time-ordered id (UUID version 7 layout): the entry's millisecond time in the first 48 bits, the rest
 * from the clock's random id. New entries land at the end of the primary-key index instead of at
 * random places in it, which keeps inserts cheap as the table grows.
 */
function orderedId(at: string, random: string): string {
  const ms = Date.parse(at);
  if (!Number.isFinite(ms) || ms < 0 || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(random)) return random;
  const hex = ms.toString(16).padStart(12, "0").slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7${random.slice(15)}`;
}

function entryOf(clock: Clock, p: PendingEntry, orgSlug: string | null): StoredAuditEntry {
  const { target, ctx } = p;
  return {
    id: orderedId(p.at, clock.id()),
    at: p.at,
    action: p.action,
    actor: storedActor(p.actor ?? ctx.actor),
    orgId: target.org?.id ?? null,
    orgSlug,
    integrationId: target.integration?.id ?? null,
    integrationName: target.integration?.name ?? null,
    keys: [...(target.keys ?? [])],
    detail: { ...(target.detail ?? {}) },
    requestId: ctx.requestId,
    executionId: ctx.executionId ?? null,
  };
}

/**
 * Append one audit entry on `store` (pass the transaction's store so the entry commits with the write).
 * Fails closed: when the entry cannot be written, the caller's transaction fails with it.
 */
export async function recordAudit(deps: { store: Store; clock: Clock }, action: AuditAction, target: AuditTarget = {}, opts: AuditOptions = {}): Promise<void> {
  await deps.store.insertAuditEntries([await makeEntry(deps, action, target, opts)]);
}

/**
 * Entries recorded off the hot path (`secret.read` from `integrations.get()`): queued in memory and
 * written in one statement per batch, when `maxEntries` are queued or `maxDelayMs` after the first, and
 * on `flush()` (the resolver's owner flushes at close). `record` only notes what happened (action,
 * target, the acting context and the time); the entries (ids, actor columns, org slugs) are built when
 * the batch is written. A failed batch is put back and retried with the next one (bounded: beyond
 * 10,000 queued entries the oldest are dropped and reported).
 */
export class AuditBuffer {
  readonly #deps: { store: Store; clock: Clock };
  readonly #maxEntries: number;
  readonly #maxDelayMs: number;
  readonly #onError: (message: string) => void;
  #queue: PendingEntry[] = [];
  #timer: NodeJS.Timeout | null = null;
  #full: NodeJS.Immediate | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(deps: { store: Store; clock: Clock }, opts: { maxEntries?: number; maxDelayMs?: number; onError?: (message: string) => void } = {}) {
    this.#deps = deps;
    this.#maxEntries = opts.maxEntries ?? 200;
    this.#maxDelayMs = opts.maxDelayMs ?? 250;
    this.#onError = opts.onError ?? ((m) => process.emitWarning(m, { type: "BifrostAuditWarning" }));
  }

  /**
   * Queue one entry acting as `ctx` (default: the current context). The target is kept as given: pass
   * objects nobody changes afterwards.
   */
  record(action: AuditAction, target: AuditTarget, ctx: AuditContext = auditContext()): void {
    this.#queue.push({ action, target, ctx, actor: null, at: this.#deps.clock.now() });
    if (this.#queue.length >= this.#maxEntries) {
      // A full batch is written right after the callers that filled it got their answer, not in
      // between their continuations (compiling a few hundred rows is milliseconds of CPU).
      this.#full ??= setImmediate(() => void this.flush());
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#maxDelayMs);
      this.#timer.unref();
    }
  }

  /** Write everything queued; resolves when it is written (or the failure reported and re-queued). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#full) clearImmediate(this.#full);
    this.#full = null;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length > 0) {
      this.#writing = this.#writing.then(async () => {
        try {
          const { store, clock } = this.#deps;
          const entries: StoredAuditEntry[] = [];
          for (const p of batch) {
            const org = p.target.org;
            entries.push(entryOf(clock, p, org ? (org.slug ?? (await orgSlugOf(store, p.target))) : null));
          }
          await store.insertAuditEntries(entries);
        } catch (err) {
          // Nothing of a failed batch was written (one statement): it is built again on the next attempt.
          this.#queue.unshift(...batch);
          const over = this.#queue.length - 10_000;
          if (over > 0) this.#queue.splice(0, over);
          this.#onError(`could not write ${batch.length} audit entries (kept for the next attempt${over > 0 ? `; ${over} oldest dropped` : ""}): ${err instanceof Error ? err.message : "unknown error"}`);
          if (!this.#timer) {
            this.#timer = setTimeout(() => void this.flush(), this.#maxDelayMs * 4);
            this.#timer.unref();
          }
        }
      });
    }
    return this.#writing;
  }
}

const DEFAULT_AUDIT_RETENTION_DAYS = 365;

/** `BIFROST_AUDIT_RETENTION_DAYS` (whole days, at least 1; default 365). A bad value is refused with what to write instead. */
export function auditRetentionDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BIFROST_AUDIT_RETENTION_DAYS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_AUDIT_RETENTION_DAYS;
  const days = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || days < 1 || days > 36_500) {
    throw new ValidationError(`BIFROST_AUDIT_RETENTION_DAYS must be a whole number of days between 1 and 36500 (default ${DEFAULT_AUDIT_RETENTION_DAYS}); got ${JSON.stringify(raw)}.`, {
      path: "BIFROST_AUDIT_RETENTION_DAYS",
    });
  }
  return days;
}

/** Retention: delete audit entries older than `days` before `now`. Returns how many were deleted. */
export async function pruneAuditLog(deps: { store: Store }, days: number, now: Date = new Date()): Promise<number> {
  return deps.store.deleteAuditEntriesBefore(new Date(now.getTime() - days * 86_400_000).toISOString());
}
