import { type Kysely, Migrator, type Selectable, type Transaction } from "kysely";
import { ConflictError } from "../core/errors.js";
import type { ApiKeyRole, ConfigSchemaItem, Integration, Mapping, Organization } from "../core/types.js";
import { InCodeMigrationProvider } from "./migrations.js";
import type { ApiKeysTable, ConfigValuesTable, Database, IntegrationsTable, MappingsTable, OrganizationsTable } from "./schema.js";
import type { IntegrationSummaryRow, ResolveRows, Store, StoredApiKey, StoredConfigValue } from "./store.js";

export const toOrg = (r: Selectable<OrganizationsTable>): Organization => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toIntegration = (r: Selectable<IntegrationsTable>): Integration => ({
  id: r.id,
  name: r.name,
  description: r.description,
  configSchema: JSON.parse(r.config_schema) as ConfigSchemaItem[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toMapping = (r: Selectable<MappingsTable>): Mapping => ({
  id: r.id,
  integrationId: r.integration_id,
  orgId: r.org_id,
  entityId: r.entity_id,
  entityName: r.entity_name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toValue = (r: Selectable<ConfigValuesTable>): StoredConfigValue => ({
  id: r.id,
  integrationId: r.integration_id,
  orgId: r.org_id,
  key: r.key,
  value: r.value,
  isSecret: Number(r.is_secret) === 1,
  fingerprint: r.fingerprint,
  updatedAt: r.updated_at,
});

const toApiKey = (r: Selectable<ApiKeysTable>): StoredApiKey => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  secretHash: r.secret_hash,
  role: r.role as ApiKeyRole,
  orgId: r.org_id,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/** One flat row of the resolve query (integration × mapping × value). */
export interface ResolveFlatRow {
  i_id: string;
  i_name: string;
  i_schema: string;
  m_id: string | null;
  m_entity_id: string | null;
  m_entity_name: string | null;
  v_id: string | null;
  v_org_id: string | null;
  v_key: string | null;
  v_value: string | null;
  v_is_secret: number | null;
  v_fp: string | null;
  v_updated_at: string | null;
}

/**
 * The resolve query; `:name` and `:org` are replaced by each dialect's placeholders.
 * Two arms so each uses its own index: defaults (with the org's mapping) and the org's overrides.
 */
export const RESOLVE_SQL = `SELECT i.id AS i_id, i.name AS i_name, i.config_schema AS i_schema,
  m.id AS m_id, m.entity_id AS m_entity_id, m.entity_name AS m_entity_name,
  v.id AS v_id, v.org_id AS v_org_id, v.key AS v_key, v.value AS v_value, v.is_secret AS v_is_secret,
  v.fingerprint AS v_fp, v.updated_at AS v_updated_at
FROM integrations i
LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = :org
LEFT JOIN config_values v ON v.integration_id = i.id AND v.org_id IS NULL
WHERE i.name = :name
UNION ALL
SELECT i.id, i.name, i.config_schema, NULL, NULL, NULL,
  v.id, v.org_id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at
FROM integrations i
JOIN config_values v ON v.integration_id = i.id AND v.org_id = :org
WHERE i.name = :name`;

export const LIST_FOR_ORG_SQL = `SELECT i.name AS name, m.id AS m_id, m.entity_id AS entity_id, m.entity_name AS entity_name
FROM integrations i LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = :org
ORDER BY i.name`;

export function foldResolveRows(rows: readonly ResolveFlatRow[]): ResolveRows | null {
  const first = rows[0];
  if (!first) return null;
  const values: StoredConfigValue[] = [];
  let mapped: ResolveFlatRow | undefined;
  for (const r of rows) {
    if (r.m_id !== null) mapped = r;
    if (r.v_id === null) continue;
    values.push({
      id: r.v_id,
      integrationId: first.i_id,
      orgId: r.v_org_id,
      key: r.v_key as string,
      value: r.v_value as string,
      isSecret: Number(r.v_is_secret) === 1,
      fingerprint: r.v_fp,
      updatedAt: r.v_updated_at as string,
    });
  }
  return {
    integration: { id: first.i_id, name: first.i_name, configSchema: first.i_schema },
    mapping: mapped ? { id: mapped.m_id as string, entityId: mapped.m_entity_id, entityName: mapped.m_entity_name } : null,
    values,
  };
}

/** Translate driver unique-violation errors into ConflictError. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "23505" || e?.code === "SQLITE_CONSTRAINT_UNIQUE" || e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

async function unique<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`${what} already exists.`);
    throw err;
  }
}

/**
 * Store over Kysely, shared by both dialects. Dialect classes add a fast `resolve()` and
 * their own transaction plumbing; everything else is the same SQL.
 */
export abstract class KyselyStore implements Store {
  abstract readonly dialect: "sqlite" | "postgres";
  protected readonly db: Kysely<Database> | Transaction<Database>;

  constructor(db: Kysely<Database> | Transaction<Database>) {
    this.db = db;
  }

  /** A store bound to a transaction. */
  protected abstract withExecutor(trx: Transaction<Database>): Store;
  abstract resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null>;
  abstract listForOrg(orgId: string | null): Promise<IntegrationSummaryRow[]>;
  abstract close(): Promise<void>;

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return (this.db as Kysely<Database>).transaction().execute((trx) => fn(this.withExecutor(trx)));
  }

  async migrate(): Promise<{ applied: string[] }> {
    const migrator = new Migrator({ db: this.db as Kysely<Database>, provider: new InCodeMigrationProvider() });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return { applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName) };
  }

  async listOrgs(): Promise<Organization[]> {
    return (await this.db.selectFrom("organizations").selectAll().orderBy("slug").execute()).map(toOrg);
  }
  async getOrgBySlug(slug: string): Promise<Organization | null> {
    const r = await this.db.selectFrom("organizations").selectAll().where("slug", "=", slug).executeTakeFirst();
    return r ? toOrg(r) : null;
  }
  async getOrgById(id: string): Promise<Organization | null> {
    const r = await this.db.selectFrom("organizations").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toOrg(r) : null;
  }
  async insertOrg(o: Organization): Promise<void> {
    await unique(
      `Organization "${o.slug}"`,
      this.db.insertInto("organizations").values({ id: o.id, slug: o.slug, name: o.name, created_at: o.createdAt, updated_at: o.updatedAt }).execute(),
    );
  }
  async updateOrg(id: string, patch: { name?: string; slug?: string; updatedAt: string }): Promise<void> {
    await unique(
      `Organization "${patch.slug ?? ""}"`,
      this.db
        .updateTable("organizations")
        .set({ ...(patch.name === undefined ? {} : { name: patch.name }), ...(patch.slug === undefined ? {} : { slug: patch.slug }), updated_at: patch.updatedAt })
        .where("id", "=", id)
        .execute(),
    );
  }
  async deleteOrg(id: string): Promise<void> {
    await this.db.deleteFrom("organizations").where("id", "=", id).execute();
  }

  async listIntegrations(): Promise<Integration[]> {
    return (await this.db.selectFrom("integrations").selectAll().orderBy("name").execute()).map(toIntegration);
  }
  async getIntegrationByName(name: string): Promise<Integration | null> {
    const r = await this.db.selectFrom("integrations").selectAll().where("name", "=", name).executeTakeFirst();
    return r ? toIntegration(r) : null;
  }
  async insertIntegration(i: Integration): Promise<void> {
    await unique(
      `Integration "${i.name}"`,
      this.db
        .insertInto("integrations")
        .values({ id: i.id, name: i.name, description: i.description, config_schema: JSON.stringify(i.configSchema), created_at: i.createdAt, updated_at: i.updatedAt })
        .execute(),
    );
  }
  async updateIntegration(id: string, patch: { name?: string; description?: string | null; configSchema?: ConfigSchemaItem[]; updatedAt: string }): Promise<void> {
    await unique(
      `Integration "${patch.name ?? ""}"`,
      this.db
        .updateTable("integrations")
        .set({
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.configSchema === undefined ? {} : { config_schema: JSON.stringify(patch.configSchema) }),
          updated_at: patch.updatedAt,
        })
        .where("id", "=", id)
        .execute(),
    );
  }
  async deleteIntegration(id: string): Promise<void> {
    await this.db.deleteFrom("config_values").where("integration_id", "=", id).execute();
    await this.db.deleteFrom("mappings").where("integration_id", "=", id).execute();
    await this.db.deleteFrom("integrations").where("id", "=", id).execute();
  }

  async listMappings(filter: { integrationId?: string; orgId?: string }): Promise<Mapping[]> {
    let q = this.db.selectFrom("mappings").selectAll();
    if (filter.integrationId !== undefined) q = q.where("integration_id", "=", filter.integrationId);
    if (filter.orgId !== undefined) q = q.where("org_id", "=", filter.orgId);
    return (await q.orderBy("created_at").orderBy("id").execute()).map(toMapping);
  }
  async getMapping(integrationId: string, orgId: string): Promise<Mapping | null> {
    const r = await this.db.selectFrom("mappings").selectAll().where("integration_id", "=", integrationId).where("org_id", "=", orgId).executeTakeFirst();
    return r ? toMapping(r) : null;
  }
  async insertMapping(m: Mapping): Promise<void> {
    await unique(
      `A mapping with entity_id "${m.entityId ?? ""}" for this integration`,
      this.db
        .insertInto("mappings")
        .values({ id: m.id, integration_id: m.integrationId, org_id: m.orgId, entity_id: m.entityId, entity_name: m.entityName, created_at: m.createdAt, updated_at: m.updatedAt })
        .execute(),
    );
  }
  async updateMapping(id: string, patch: { entityId?: string | null; entityName?: string | null; updatedAt: string }): Promise<void> {
    await unique(
      `A mapping with entity_id "${patch.entityId ?? ""}" for this integration`,
      this.db
        .updateTable("mappings")
        .set({
          ...(patch.entityId === undefined ? {} : { entity_id: patch.entityId }),
          ...(patch.entityName === undefined ? {} : { entity_name: patch.entityName }),
          updated_at: patch.updatedAt,
        })
        .where("id", "=", id)
        .execute(),
    );
  }
  async deleteMapping(id: string): Promise<void> {
    await this.db.deleteFrom("mappings").where("id", "=", id).execute();
  }

  async listConfigValues(integrationId: string, orgId?: string | null): Promise<StoredConfigValue[]> {
    let q = this.db.selectFrom("config_values").selectAll().where("integration_id", "=", integrationId);
    if (orgId === null) q = q.where("org_id", "is", null);
    else if (orgId !== undefined) q = q.where("org_id", "=", orgId);
    return (await q.orderBy("key").execute()).map(toValue);
  }
  async upsertConfigValue(v: StoredConfigValue): Promise<void> {
    const row = { value: v.value, is_secret: v.isSecret ? 1 : 0, fingerprint: v.fingerprint, updated_at: v.updatedAt };
    const res = await this.db.updateTable("config_values").set(row).where("id", "=", v.id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      await this.db
        .insertInto("config_values")
        .values({ id: v.id, integration_id: v.integrationId, org_id: v.orgId, key: v.key, ...row })
        .execute();
    }
  }
  async deleteConfigValues(integrationId: string, orgId: string | null | undefined, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    let q = this.db.deleteFrom("config_values").where("integration_id", "=", integrationId).where("key", "in", [...keys]);
    if (orgId === null) q = q.where("org_id", "is", null);
    else if (orgId !== undefined) q = q.where("org_id", "=", orgId);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }
  async countOrgValues(orgId: string): Promise<number> {
    const r = await this.db.selectFrom("config_values").select((eb) => eb.fn.countAll<number>().as("n")).where("org_id", "=", orgId).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async insertApiKey(k: StoredApiKey): Promise<void> {
    await this.db
      .insertInto("api_keys")
      .values({ id: k.id, name: k.name, prefix: k.prefix, secret_hash: k.secretHash, role: k.role, org_id: k.orgId, created_at: k.createdAt, last_used_at: k.lastUsedAt, revoked_at: k.revokedAt })
      .execute();
  }
  async getApiKeyByPrefix(prefix: string): Promise<StoredApiKey | null> {
    const r = await this.db.selectFrom("api_keys").selectAll().where("prefix", "=", prefix).executeTakeFirst();
    return r ? toApiKey(r) : null;
  }
  async listApiKeys(): Promise<StoredApiKey[]> {
    return (await this.db.selectFrom("api_keys").selectAll().orderBy("created_at").execute()).map(toApiKey);
  }
  async revokeApiKey(id: string, at: string): Promise<void> {
    await this.db.updateTable("api_keys").set({ revoked_at: at }).where("id", "=", id).execute();
  }
  async touchApiKey(id: string, at: string): Promise<void> {
    await this.db.updateTable("api_keys").set({ last_used_at: at }).where("id", "=", id).execute();
  }

  async getCanaries(): Promise<Array<{ kid: string; value: string }>> {
    return this.db.selectFrom("keyring_canaries").select(["kid", "value"]).orderBy("kid").execute();
  }
  async putCanary(kid: string, value: string, at: string): Promise<void> {
    await this.db.insertInto("keyring_canaries").values({ kid, value, created_at: at }).execute();
  }
}
