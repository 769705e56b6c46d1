import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";
import { entityKey } from "../core/entity.js";
import { MigrationError } from "../core/errors.js";

/**
 * 0005: the comparison key of every stored entity id. Existing ids that collide under the new rule
 * (`TENANT-ABC` next to `tenant-abc`) stop the migration before anything changes; the error names the
 * integration and the mapping ids so an operator can fix them with the release before.
 */
async function backfillEntityKeys(db: Kysely<unknown>): Promise<void> {
  const rows = (await sql<{ id: string; integration_id: string; entity_id: string }>`SELECT id, integration_id, entity_id FROM mappings WHERE entity_id IS NOT NULL ORDER BY created_at, id`.execute(db)).rows;
  const groups = new Map<string, string[]>();
  const keys = new Map<string, string>();
  for (const r of rows) {
    const key = entityKey(r.entity_id);
    keys.set(r.id, key);
    const g = `${r.integration_id}\u0000${key}`;
    groups.set(g, [...(groups.get(g) ?? []), r.id]);
  }
  const collisions = [...groups.entries()].filter(([, ids]) => ids.length > 1);
  if (collisions.length > 0) {
    const names = new Map((await sql<{ id: string; name: string }>`SELECT id, name FROM integrations`.execute(db)).rows.map((r) => [r.id, r.name]));
    const list = collisions.map(([g, ids]) => {
      const integrationId = g.split("\u0000")[0] as string;
      return { integration: names.get(integrationId) ?? integrationId, mappings: ids };
    });
    throw new MigrationError(
      `Migration 0005_entity_key refused: entity ids must be unique per integration ignoring case, surrounding whitespace, Unicode form and a trailing dot, and these mappings collide: ` +
        `${list.map((c) => `integration "${c.integration}": mappings ${c.mappings.join(", ")}`).join("; ")}. ` +
        "Change or clear all but one entity id of each group (with the previous release, e.g. `bifrost mappings set`), then migrate again. Nothing was changed.",
      { collisions: list },
    );
  }
  await db.schema.dropIndex("mappings_integration_entity_uq").execute();
  await db.schema.alterTable("mappings").addColumn("entity_key", "text").execute();
  for (const [id, key] of keys) await sql`UPDATE mappings SET entity_key = ${key} WHERE id = ${id}`.execute(db);
  await db.schema
    .createIndex("mappings_integration_entity_key_uq")
    .on("mappings")
    .columns(["integration_id", "entity_key"])
    .unique()
    .where(sql.ref("entity_key"), "is not", null)
    .execute();
}

/**
 * Schema migrations, in order. Never edit a released migration: add a new one.
 * Written with Kysely's schema builder so both SQLite and PostgreSQL run the same steps.
 */
const migrations: Record<string, Migration> = {
  "0001_foundation": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("organizations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("slug", "text", (c) => c.notNull().unique())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("integrations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("description", "text")
        .addColumn("config_schema", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("mappings")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("integration_id", "text", (c) => c.notNull().references("integrations.id").onDelete("cascade"))
        .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id").onDelete("restrict"))
        .addColumn("entity_id", "text")
        .addColumn("entity_name", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addUniqueConstraint("mappings_integration_org_uq", ["integration_id", "org_id"])
        .execute();
      await db.schema
        .createIndex("mappings_integration_entity_uq")
        .on("mappings")
        .columns(["integration_id", "entity_id"])
        .unique()
        .where(sql.ref("entity_id"), "is not", null)
        .execute();
      await db.schema.createIndex("mappings_org_idx").on("mappings").column("org_id").execute();

      await db.schema
        .createTable("config_values")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("integration_id", "text", (c) => c.notNull().references("integrations.id").onDelete("cascade"))
        .addColumn("org_id", "text", (c) => c.references("organizations.id").onDelete("restrict"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("is_secret", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("fingerprint", "text")
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("config_values_default_uq")
        .on("config_values")
        .columns(["integration_id", "key"])
        .unique()
        .where(sql.ref("org_id"), "is", null)
        .execute();
      await db.schema
        .createIndex("config_values_override_uq")
        .on("config_values")
        .columns(["integration_id", "org_id", "key"])
        .unique()
        .where(sql.ref("org_id"), "is not", null)
        .execute();

      await db.schema
        .createTable("api_keys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("prefix", "text", (c) => c.notNull().unique())
        .addColumn("secret_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("org_id", "text", (c) => c.references("organizations.id").onDelete("cascade"))
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("last_used_at", "text")
        .addColumn("revoked_at", "text")
        .execute();

      await db.schema
        .createTable("keyring_canaries")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
    },
  },
  "0002_oauth": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("oauth_providers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("integration_id", "text", (c) => c.notNull().unique().references("integrations.id").onDelete("cascade"))
        .addColumn("flow", "text", (c) => c.notNull())
        .addColumn("settings", "text", (c) => c.notNull())
        .addColumn("client_secret", "text", (c) => c.notNull())
        .addColumn("client_secret_fingerprint", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("oauth_tokens")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("integration_id", "text", (c) => c.notNull().references("integrations.id").onDelete("cascade"))
        .addColumn("org_id", "text", (c) => c.references("organizations.id").onDelete("cascade"))
        .addColumn("mapping_id", "text", (c) => c.references("mappings.id").onDelete("cascade"))
        .addColumn("owner_key", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("access_token", "text")
        .addColumn("refresh_token", "text")
        .addColumn("token_type", "text")
        .addColumn("expires_at", "text")
        .addColumn("obtained_at", "text")
        .addColumn("scopes", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("extra", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("last_refresh_at", "text")
        .addColumn("last_error", "text")
        .addColumn("failure_count", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "text")
        .addColumn("claimed_until", "text")
        .addColumn("refresh_started_at", "text")
        .addColumn("refresh_owner", "text")
        .addColumn("version", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addUniqueConstraint("oauth_tokens_owner_uq", ["integration_id", "owner_key"])
        .execute();
      await db.schema.createIndex("oauth_tokens_expiry_idx").on("oauth_tokens").columns(["state", "expires_at"]).execute();
      await db.schema.createIndex("oauth_tokens_org_idx").on("oauth_tokens").column("org_id").execute();

      await db.schema
        .createTable("oauth_states")
        .addColumn("state", "text", (c) => c.primaryKey())
        .addColumn("integration_id", "text", (c) => c.notNull().references("integrations.id").onDelete("cascade"))
        .addColumn("org_id", "text", (c) => c.references("organizations.id").onDelete("cascade"))
        .addColumn("mapping_id", "text", (c) => c.references("mappings.id").onDelete("cascade"))
        .addColumn("code_verifier", "text", (c) => c.notNull())
        .addColumn("initiator_key_id", "text")
        .addColumn("issuer", "text")
        .addColumn("redirect_uri", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("consumed", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("outcome", "text")
        .execute();

      await db.schema
        .createTable("oauth_events")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("integration_id", "text", (c) => c.notNull().references("integrations.id").onDelete("cascade"))
        .addColumn("org_id", "text", (c) => c.references("organizations.id").onDelete("cascade"))
        .addColumn("payload", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("oauth_events_created_idx").on("oauth_events").columns(["created_at", "id"]).execute();
    },
  },
  "0003_oauth_webhooks": {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per event to deliver; claimed with a lease so a killed deliverer's claims are retried.
      await db.schema
        .createTable("oauth_webhook_deliveries")
        .addColumn("event_id", "text", (c) => c.primaryKey().references("oauth_events.id").onDelete("cascade"))
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "text", (c) => c.notNull())
        .addColumn("lease_until", "text")
        .addColumn("lease_owner", "text")
        .addColumn("delivered_at", "text")
        .addColumn("last_error", "text")
        .execute();
      await db.schema.createIndex("oauth_webhook_due_idx").on("oauth_webhook_deliveries").columns(["delivered_at", "next_attempt_at"]).execute();
    },
  },
  "0004_integration_trust": {
    async up(db: Kysely<unknown>): Promise<void> {
      // Platform-only trust settings (DESIGN.md §9): extra origins for integration-level credentials,
      // and whether outbound calls may reach private (on-premises) ranges.
      await db.schema.alterTable("integrations").addColumn("trusted_origins", "text", (c) => c.notNull().defaultTo("[]")).execute();
      await db.schema.alterTable("integrations").addColumn("private_network", "integer", (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  "0005_entity_key": {
    async up(db: Kysely<unknown>): Promise<void> {
      // Entity ids are unique per integration on a normalized key (DESIGN.md §9.3); the stored id keeps the user's spelling.
      await backfillEntityKeys(db);
    },
  },
  "0006_audit_log": {
    async up(db: Kysely<unknown>): Promise<void> {
      // Append-only: the store has an insert, a keyset-paginated read and the retention delete, nothing else.
      // Names (org slug, integration name) are copied so an entry keeps saying what it touched after a rename or delete.
      await db.schema
        .createTable("audit_log")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("actor_kind", "text", (c) => c.notNull())
        .addColumn("actor_key_id", "text")
        .addColumn("actor_key_prefix", "text")
        .addColumn("actor_key_name", "text")
        .addColumn("actor_via", "text")
        .addColumn("org_id", "text")
        .addColumn("org_slug", "text")
        .addColumn("integration_id", "text")
        .addColumn("integration_name", "text")
        .addColumn("keys", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("detail", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("request_id", "text")
        .addColumn("execution_id", "text")
        .execute();
      await db.schema.createIndex("audit_log_at_idx").on("audit_log").columns(["at", "id"]).execute();
      await db.schema.createIndex("audit_log_org_idx").on("audit_log").columns(["org_id", "at"]).execute();
    },
  },
  "0010_connect_links": {
    async up(db: Kysely<unknown>): Promise<void> {
      // Connect links (issue 15): a one-time URL for a customer's admin to connect an org. Only the
      // SHA-256 of the token is stored; `created_by` is the creating API key id (null = local CLI).
      await db.schema
        .createTable("connect_links")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("integration_id", "text", (c) => c.notNull().references("integrations.id").onDelete("cascade"))
        .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id").onDelete("cascade"))
        .addColumn("created_by", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("used_at", "text")
        .addColumn("revoked_at", "text")
        .addColumn("expiry_recorded_at", "text")
        .execute();
      await db.schema.createIndex("connect_links_integration_idx").on("connect_links").columns(["integration_id", "org_id", "created_at"]).execute();
    },
  },
  "0011_scale_indexes": {
    async up(db: Kysely<unknown>): Promise<void> {
      // The connections lists' state filters start from the tokens in those states (src/storage/connections.ts):
      // this index finds them per state (and integration) and holds the owner key and expiry, so the
      // token rows themselves are not read.
      await db.schema.createIndex("oauth_tokens_state_owner_idx").on("oauth_tokens").columns(["state", "integration_id", "owner_key", "expires_at"]).execute();
    },
  },
};

export class InCodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}
