/**
 * Who is asking a service to write. Every surface (HTTP API, console routes, MCP, CLI, apply) passes
 * one, so the tenant rules of DESIGN.md §9.3 live in the services once:
 * - an entity id on an integration whose OAuth URLs use `{entity_id}` is set or changed by platform admins only;
 * - per-org values of a schema key with `org_override: false` are written by platform admins only.
 * Services default to ORG_ACTOR (the restricted one) so a surface that forgets to say fails closed.
 */
export interface Actor {
  /** A platform admin, or the local CLI / `bifrost apply` (they run with the keyring and the database). */
  readonly platform: boolean;
}

export const PLATFORM_ACTOR: Actor = Object.freeze({ platform: true });
export const ORG_ACTOR: Actor = Object.freeze({ platform: false });
