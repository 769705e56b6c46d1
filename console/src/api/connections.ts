/** One connection row by integration and org (null = the integration-level row), from GET /api/connections. */
import { client, okAs } from "./client.js";
import type { ConnectionRow } from "./types.js";

export async function fetchConnection(integration: string, org: string | null): Promise<ConnectionRow | null> {
  const res = await okAs<{ connections: ConnectionRow[] }>(client.GET("/api/connections", { params: { query: { integration, ...(org === null ? { org: "-" } : { org }), limit: "1" } } }));
  return res.connections.find((c) => c.integration === integration && c.org === org) ?? null;
}
