/** Small formatting helpers (pure). */
import type { Connection } from "../api/types.js";

export const enc = encodeURIComponent;

/** "in 5 min" / "3 h ago" relative to `now`; "—" for null. */
export function relTime(iso: string | null, now = Date.now()): string {
  if (!iso) return "—";
  const s = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(s);
  const unit = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)} min` : abs < 86400 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} d`;
  return s >= 0 ? `in ${unit}` : `${unit} ago`;
}

/** One formatter for every date shown (`Date#toLocaleString` builds a new one per call: slow in a 100-row table). */
const DATE_TIME = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });

/** A timestamp in the browser's locale (what `toLocaleString()` shows); "—" for null. */
export function when(iso: string | null): string {
  return iso ? DATE_TIME.format(new Date(iso)) : "—";
}

export interface Badge {
  tone: "ok" | "info" | "warn" | "bad" | "muted";
  text: string;
  title?: string;
}

/** Connection state badge: connected / expires in … (under 15 min) / needs re-auth / error with message / not connected. */
export function connectionBadge(c: Pick<Connection, "state" | "expires_at" | "last_error"> | null | undefined, now = Date.now()): Badge {
  if (!c || c.state === "not_connected") return { tone: "muted", text: "not connected" };
  if (c.state === "needs_reauth") return { tone: "warn", text: "needs re-auth" };
  if (c.state === "error") return { tone: "bad", text: `error${c.last_error ? `: ${c.last_error}` : ""}`, ...(c.last_error ? { title: c.last_error } : {}) };
  if (c.state === "refreshing") return { tone: "info", text: "refreshing…" };
  if (c.expires_at !== null && Date.parse(c.expires_at) - now < 15 * 60_000) return { tone: "info", text: `expires ${relTime(c.expires_at, now)}` };
  return { tone: "ok", text: "connected" };
}

/** The badge tone of an OAuth event type: failures warn, a disconnect is muted, the rest are fine. */
export function eventTone(type: string): "warn" | "muted" | "ok" {
  if (type === "needs_reauth" || type === "refresh_failed") return "warn";
  return type === "disconnected" ? "muted" : "ok";
}

/** An event's payload or an entry's detail as one line of JSON; "" when it has nothing. */
export function detailText(detail: Record<string, unknown> | null | undefined): string {
  return detail && Object.keys(detail).length ? JSON.stringify(detail) : "";
}
