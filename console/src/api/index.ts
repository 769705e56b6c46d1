/** The console's API layer: typed client, errors, response types. */
export { allPages, client, ok, okAs, setCsrf } from "./client.js";
export { ApiError, errorMatches, toApiError } from "./errors.js";
export type { AuditEntry, ConnectionRow, IntegrationOrgRow, SessionInfo } from "./doc-types.js";
export * from "./types.js";
