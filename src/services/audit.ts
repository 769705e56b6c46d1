/**
 * Reading the audit trail (`bifrost audit`, `GET /api/audit`, the console's Audit page): newest first,
 * filtered, keyset-paginated with an opaque cursor. Recording lives in src/kernel/audit.ts.
 */
import { ValidationError } from "../core/errors.js";
import { cutPage, decodeCursor, pageLimit } from "../core/page.js";
import { checkIntegrationName, checkOrgSlug } from "../core/names.js";
import { AUDIT_ACTIONS, type AuditAction } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import type { AuditQuery, StoredAuditEntry } from "../storage/store.js";


export type AuditActorView =
  | { kind: "api_key"; key_id: string; key_prefix: string; key_name: string; via: string }
  | { kind: "local_cli" }
  | { kind: "system" };

/** One entry as the API, CLI and console show it: names only, never a value. */
export interface AuditEntryView {
  id: string;
  at: string;
  action: string;
  actor: AuditActorView;
  target: { integration: string | null; org: string | null; keys: string[] };
  detail: Record<string, unknown>;
  request_id: string | null;
  execution_id: string | null;
}

export interface AuditFilter {
  org?: string | undefined;
  integration?: string | undefined;
  action?: string | undefined;
  /** ISO 8601 time, or a duration back from now: `30m`, `24h`, `7d`. */
  since?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface AuditPage {
  entries: AuditEntryView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

function actorView(e: StoredAuditEntry): AuditActorView {
  const a = e.actor;
  if (a.kind === "api_key") return { kind: "api_key", key_id: a.keyId ?? "", key_prefix: a.keyPrefix ?? "", key_name: a.keyName ?? "", via: a.via ?? "api" };
  return { kind: a.kind };
}

function entryView(e: StoredAuditEntry): AuditEntryView {
  return {
    id: e.id,
    at: e.at,
    action: e.action,
    actor: actorView(e),
    target: { integration: e.integrationName, org: e.orgSlug, keys: e.keys },
    detail: e.detail,
    request_id: e.requestId,
    execution_id: e.executionId,
  };
}

const DURATION = /^(\d{1,6})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `since`: an ISO 8601 time or `<n>m|h|d` back from `now` → ISO time. */
export function parseSince(since: string, now: Date = new Date()): string {
  const d = DURATION.exec(since.trim());
  if (d) return new Date(now.getTime() - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS]).toISOString();
  const t = /^\d{4}-\d{2}-\d{2}/.test(since) ? Date.parse(since) : Number.NaN;
  if (Number.isNaN(t)) {
    throw new ValidationError(`since must be an ISO 8601 time (2026-01-31 or 2026-01-31T12:00:00Z) or a duration back from now (30m, 24h, 7d); got ${JSON.stringify(since.slice(0, 40))}.`, {
      path: "since",
    });
  }
  return new Date(t).toISOString();
}

function checkAction(action: string): AuditAction {
  if (!(AUDIT_ACTIONS as readonly string[]).includes(action)) {
    throw new ValidationError(`Unknown audit action ${JSON.stringify(action.slice(0, 40))}; use one of ${AUDIT_ACTIONS.join(", ")}.`, { path: "action", known: [...AUDIT_ACTIONS] });
  }
  return action as AuditAction;
}

/**
 * One page of the audit trail. `scopeOrgId`: an org admin's own organization: only its entries are
 * read, whatever the filter says (the caller checks that a named org is the admin's own first).
 */
export async function listAudit(deps: Deps, filter: AuditFilter = {}, scopeOrgId: string | null = null): Promise<AuditPage> {
  const limit = pageLimit(filter.limit);
  const query: AuditQuery = { limit: limit + 1 };
  if (scopeOrgId !== null) query.org = { id: scopeOrgId };
  else if (filter.org !== undefined) {
    // An organization that was deleted (or renamed) is still found by the slug its entries recorded.
    const org = await deps.store.getOrgBySlug(checkOrgSlug(filter.org));
    query.org = org ? { id: org.id } : { slug: filter.org };
  }
  if (filter.integration !== undefined) {
    const integration = await deps.store.getIntegrationByName(checkIntegrationName(filter.integration));
    query.integration = integration ? { id: integration.id } : { name: filter.integration };
  }
  if (filter.action !== undefined) query.action = checkAction(filter.action);
  if (filter.since !== undefined) query.since = parseSince(filter.since, new Date(deps.clock.now()));
  if (filter.cursor !== undefined) {
    const [at, id] = decodeCursor(filter.cursor, "audit", ["s", "s"]) as [string, string];
    query.before = { at, id };
  }
  const page = cutPage(await deps.store.listAuditEntries(query), limit, "audit", (e) => [e.at, e.id]);
  return { entries: page.rows.map(entryView), next_cursor: page.nextCursor };
}
