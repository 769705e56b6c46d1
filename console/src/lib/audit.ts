/** Pure helpers of the Audit page (no DOM: unit-tested by vitest). */

/** The actions the server records (the filter's choices; the server refuses any other): the server's own list. */
export { AUDIT_ACTIONS } from "../../../src/core/audit-actions.js";

interface ActorLike {
  kind: string;
  key_prefix?: string;
  key_name?: string;
  via?: string;
}

/** `key 0a1b2c3d4e5f "ops" (console)`, `local CLI` or `system`. */
export function actorLabel(a: ActorLike): string {
  if (a.kind === "api_key") return `key ${a.key_prefix ?? ""}${a.key_name ? ` "${a.key_name}"` : ""}${a.via && a.via !== "api" ? ` (${a.via})` : ""}`;
  if (a.kind === "local_cli") return "local CLI";
  return "system";
}

/** Badge tone: reads of secrets stand out, removals are muted, other writes plain. */
export function actionTone(action: string): "warn" | "muted" | "ok" | "info" {
  if (action === "secret.read" || action === "export.with_secrets") return "warn";
  if (action === "key.revoke" || action === "oauth.disconnect") return "muted";
  if (action.startsWith("keyring.") || action === "import") return "info";
  return "ok";
}

/** Audit entries per page. */
export const AUDIT_PAGE = 50;

/** The query for GET /api/audit from the filter fields (empty fields left out). */
export function auditQuery(f: { integration: string; org: string; action: string; since: string }, cursor: string | null): Record<string, string> {
  const q: Record<string, string> = { limit: String(AUDIT_PAGE) };
  for (const [k, v] of Object.entries(f)) if (v.trim() !== "") q[k] = v.trim();
  if (cursor) q.cursor = cursor;
  return q;
}
