/**
 * The audit trail's closed list of actions: dependency-free, so the server (src/kernel/audit.ts) and the
 * web console's filter (console/src/lib/audit.ts) read the same list.
 */
/** A new action is added here (and in docs/operations.md). */
export const AUDIT_ACTIONS = [
  "config.write",
  "secret.write",
  "secret.read",
  "mapping.write",
  "schema.write",
  "provider.write",
  "oauth.connect",
  "oauth.refresh",
  "oauth.disconnect",
  "key.create",
  "key.revoke",
  "link.create",
  "link.revoke",
  "import",
  "export.with_secrets",
  "keyring.rotate",
  "keyring.rewrap",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
