import type { Clock } from "../kernel/clock.js";
import type { Store } from "../storage/store.js";

export type OAuthEventType =
  | "connected"
  | "refreshed_after_failure"
  | "refresh_failed"
  | "needs_reauth"
  | "disconnected"
  | "link.created"
  | "link.used"
  | "link.expired"
  | "link.revoked";

/** Store one event. Payloads carry states, reasons and scopes, never tokens, codes or secrets. */
export async function recordEvent(
  store: Store,
  clock: Clock,
  e: { type: OAuthEventType; integrationId: string; orgId: string | null; payload: Record<string, unknown> },
): Promise<void> {
  await store.insertOAuthEvent({ id: clock.id(), type: e.type, integrationId: e.integrationId, orgId: e.orgId, payload: e.payload, createdAt: clock.now() });
}
