/** The Connect popup's polling: when the connection state shows the flow finished. */
import type { Connection } from "../api/types.js";

/** Connected, with a refresh time other than the one seen before the popup opened (a new token arrived). */
export function connectFinished(now: Pick<Connection, "state" | "last_refresh_at"> | undefined, before: Pick<Connection, "last_refresh_at"> | undefined): boolean {
  return now !== undefined && now.state === "connected" && now.last_refresh_at !== before?.last_refresh_at;
}
