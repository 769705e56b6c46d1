/** One connection row by integration and org (null = the integration-level row), from GET /api/connections. */
import { client, ok } from "./client.js";
import type { ConnectionRow } from "./doc-types.js";

export async function fetchConnection(integration: string, org: string | null): Promise<ConnectionRow | null> {
  // The integration-level row sorts first among the integration's rows (its org key is empty).
  const res = await ok(client.GET("/api/connections", { params: { query: { integration, ...(org === null ? {} : { org }), limit: "1" } } }));
  return res.connections.find((c) => c.integration === integration && c.org === org) ?? null;
}
