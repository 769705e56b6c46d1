/** Types taken from the server's OpenAPI document (schema.gen.ts, generated before each build). */
import type { paths } from "./schema.gen.js";

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;

/** GET /api/session. */
export type SessionInfo = Json<"/api/session", "get">;

/** GET /api/audit: one page of the audit trail. */
type AuditPage = Json<"/api/audit", "get">;
export type AuditEntry = AuditPage["entries"][number];

/** GET /api/connections: one page of connection rows. */
export type ConnectionRow = Json<"/api/connections", "get">["connections"][number];
/** GET /api/console/integrations/{name}/organizations rows (the Mappings tab). */
export type IntegrationOrgRow = Json<"/api/console/integrations/{name}/organizations", "get">["organizations"][number];
