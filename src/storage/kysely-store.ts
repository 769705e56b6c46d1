import { type Kysely, Migrator, sql, type Transaction } from "kysely";
import { entityKey } from "../core/entity.js";
import type { ConfigSchemaItem, Integration, Mapping, Organization } from "../core/types.js";
import { unique, uniqueMapping } from "./constraints.js";
import type { Dialect, Executor, ExecutorStore } from "./dialect.js";
import { InCodeMigrationProvider } from "./migrations.js";
import { retryTransient } from "./retry.js";
import { toApiKey, toAuditEntry, toConnectLink, toEvent, toIntegration, toMapping, toOAuthToken, toOrg, toProvider, toState, toValue, tokenColumns } from "./rows.js";
import type { AuditLogTable, Database } from "./schema.js";
import { countIntegrationOrgRows, listConnectionRows, listIntegrationOrgRows } from "./connections.js";
import { CIPHERTEXT_COLUMNS, type CiphertextColumn, type CiphertextCount, type CiphertextRow, type RewrapBatch, type Rewrapped } from "./ciphertexts.js";
import type {
  AuditQuery,
  ListPage,
  ConnectionQuery,
  IntegrationOrgCount,
  IntegrationOrgQuery,
  StoredConnectionRow,
  StoredIntegrationOrgRow,
  IntegrationSummaryRow,
  OAuthTokenPatch,
  ResolveRows,
  LockBody,
  RefreshClaim,
  LockOrAwait,
  RowStamp,
  Store,
  StoredApiKey,
  StoredAuditEntry,
  StoredConfigValue,
  StoredConnectLink,
  StoredOAuthEvent,
  StoredOAuthProvider,
  StoredOAuthState,
  StoredOAuthToken,
} from "./store.js";

/** Length of a row-bound fingerprint, `hmac-sha256:` + 16 hex digits (src/crypto/secret-box.ts isRowBoundFingerprint). */
const ROW_BOUND_FINGERPRINT_LENGTH = "hmac-sha256:".length + 16;

/**
 * The Store over Kysely, shared by every database: the same query-builder SQL on one executor (the
 * root database or a transaction). What differs between databases (transactions, resolve, locks,
 * claims, notifications) is asked of the `Dialect` (src/storage/dialect.ts).
 */
/** The row of a new mapping (its normalized entity key computed here, on every write). */
function mappingRow(m: Mapping) {
  return {
    id: m.id,
    integration_id: m.integrationId,
    org_id: m.orgId,
    entity_id: m.entityId,
    entity_key: m.entityId === null ? null : entityKey(m.entityId),
    entity_name: m.entityName,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

export class KyselyStore implements ExecutorStore {
  readonly dialect: "sqlite" | "postgres";
  /** The executor: the root database, or the transaction this store is bound to. */
  readonly db: Executor;
  readonly #dialect: Dialect;
  /** `NOTIFY` on this executor, where the database has it (read by src/storage/notifying.ts). */
  readonly notifyChange: ((id: string) => Promise<void>) | undefined;

  constructor(db: Executor, dialect: Dialect) {
    this.db = db;
    this.#dialect = dialect;
    this.dialect = dialect.name;
    const notify = dialect.notify;
    this.notifyChange = notify ? (id) => notify.call(dialect, db, id) : undefined;
  }

  /** A store on the same dialect, bound to `trx`. */
  withTransaction(trx: Transaction<Database>): KyselyStore {
    return new KyselyStore(trx, this.#dialect);
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.#dialect.transaction(this.db as Kysely<Database>, (trx) => fn(this.withTransaction(trx)));
  }

  async retryingTransaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    const root = this.db as Kysely<Database>;
    return retryTransient(() => this.#dialect.transaction(root, (trx) => fn(this.withTransaction(trx))));
  }

  async checkReadiness(): Promise<{ pendingMigrations: string[] }> {
    await this.#dialect.ping();
    const migrator = new Migrator({ db: this.db as Kysely<Database>, provider: new InCodeMigrationProvider() });
    const all = await migrator.getMigrations();
    return { pendingMigrations: all.filter((m) => m.executedAt === undefined).map((m) => m.name) };
  }

  async migrate(): Promise<{ applied: string[] }> {
    const provider = new InCodeMigrationProvider();
    if (await this.#migrated(Object.keys(await provider.getMigrations()))) {
      this.#dialect.migrated?.();
      return { applied: [] };
    }
    const migrator = new Migrator({ db: this.db as Kysely<Database>, provider });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    this.#dialect.migrated?.();
    return { applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName) };
  }

  async close(): Promise<void> {
    await this.#dialect.close();
  }

  /**
   * Whether exactly these migrations are recorded as applied (Kysely's own table): one query, where the
   * Migrator would introspect every table and take its lock at every start. Anything else (no table
   * yet, a missing or an unknown migration) leaves the decision and its errors to the Migrator.
   */
  async #migrated(names: readonly string[]): Promise<boolean> {
    let rows: Array<{ name: string }>;
    try {
      rows = (await sql<{ name: string }>`select name from kysely_migration`.execute(this.db)).rows;
    } catch {
      return false;
    }
    const done = new Set(rows.map((r) => r.name));
    return done.size === names.length && names.every((n) => done.has(n));
  }

  resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    return this.#dialect.resolve(this, integrationName, orgId);
  }

  async listForOrg(orgId: string | null): Promise<IntegrationSummaryRow[]> {
    const rows = await this.db
      .selectFrom("integrations as i")
      .leftJoin("mappings as m", (join) => join.onRef("m.integration_id", "=", "i.id").on("m.org_id", "=", orgId))
      .select(["i.name as name", "m.id as m_id", "m.entity_id as entity_id", "m.entity_name as entity_name"])
      .orderBy("i.name")
      .execute();
    return rows.map((r) => ({ name: r.name, mapped: r.m_id !== null, entityId: r.entity_id, entityName: r.entity_name }));
  }

  listConnections(query: ConnectionQuery): Promise<{ rows: StoredConnectionRow[]; total: number }> {
    return listConnectionRows(this.db, this.#dialect.byteOrder, query);
  }
  listIntegrationOrgs(query: IntegrationOrgQuery): Promise<{ rows: StoredIntegrationOrgRow[]; total: number }> {
    return listIntegrationOrgRows(this.db, this.#dialect.byteOrder, query);
  }
  countIntegrationOrgs(query: { integrationId: string; scopeOrgId?: string }): Promise<IntegrationOrgCount[]> {
    return countIntegrationOrgRows(this.db, query);
  }

  /** A text column in byte order (the sort and cursor comparisons of every page). */
  #bytes(column: string) {
    return sql<string>`${sql.ref(column)} ${this.#dialect.byteOrder}`;
  }
  /** `LOWER(column) LIKE pattern` over any of `columns`. */
  #like(pattern: string, columns: readonly string[]) {
    return sql<boolean>`(${sql.join(columns.map((c) => sql`LOWER(${sql.ref(c)}) LIKE ${pattern} ESCAPE ${sql.lit("\\")}`), sql` OR `)})`;
  }

  async pageOrgs(page: ListPage & { onlyId?: string }): Promise<Organization[]> {
    let q = this.db.selectFrom("organizations").selectAll();
    if (page.onlyId !== undefined) q = q.where("id", "=", page.onlyId);
    if (page.like !== undefined) q = q.where(this.#like(page.like, ["slug", "name"]));
    if (page.after !== undefined) q = q.where(this.#bytes("slug"), ">", String(page.after[0]));
    return (await q.orderBy(this.#bytes("slug")).limit(page.limit).execute()).map(toOrg);
  }
  async pageIntegrations(page: ListPage): Promise<Integration[]> {
    let q = this.db.selectFrom("integrations").selectAll();
    if (page.like !== undefined) q = q.where(this.#like(page.like, ["name", "description"]));
    if (page.after !== undefined) q = q.where(this.#bytes("name"), ">", String(page.after[0]));
    return (await q.orderBy(this.#bytes("name")).limit(page.limit).execute()).map(toIntegration);
  }
  async pageMappings(page: ListPage & { integrationId: string; orgId?: string }): Promise<Array<{ mapping: Mapping; org: Organization }>> {
    let q = this.db
      .selectFrom("mappings as m")
      .innerJoin("organizations as o", "o.id", "m.org_id")
      .selectAll("m")
      .select(["o.slug as o_slug", "o.name as o_name", "o.created_at as o_created_at", "o.updated_at as o_updated_at"])
      .where("m.integration_id", "=", page.integrationId);
    if (page.orgId !== undefined) q = q.where("m.org_id", "=", page.orgId);
    if (page.like !== undefined) q = q.where(this.#like(page.like, ["o.slug", "o.name", "m.entity_id", "m.entity_name"]));
    if (page.after !== undefined) q = q.where(this.#bytes("o.slug"), ">", String(page.after[0]));
    const rows = await q.orderBy(this.#bytes("o.slug")).limit(page.limit).execute();
    return rows.map((r) => ({ mapping: toMapping(r), org: { id: r.org_id, slug: r.o_slug, name: r.o_name, createdAt: r.o_created_at, updatedAt: r.o_updated_at } }));
  }
  async pageApiKeys(page: ListPage): Promise<StoredApiKey[]> {
    let q = this.db.selectFrom("api_keys").selectAll();
    if (page.like !== undefined) q = q.where(this.#like(page.like, ["name", "prefix"]));
    const after = page.after;
    if (after !== undefined) {
      const [at, id] = [String(after[0]), String(after[1])];
      q = q.where((eb) => eb.or([eb("created_at", ">", at), eb.and([eb("created_at", "=", at), eb(this.#bytes("id"), ">", id)])]));
    }
    return (await q.orderBy("created_at").orderBy(this.#bytes("id")).limit(page.limit).execute()).map(toApiKey);
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
  async getIntegrationById(id: string): Promise<Integration | null> {
    const r = await this.db.selectFrom("integrations").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toIntegration(r) : null;
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
        .values({
          id: i.id,
          name: i.name,
          description: i.description,
          config_schema: JSON.stringify(i.configSchema),
          trusted_origins: JSON.stringify(i.trustedOrigins),
          private_network: i.privateNetwork ? 1 : 0,
          created_at: i.createdAt,
          updated_at: i.updatedAt,
        })
        .execute(),
    );
  }
  async updateIntegration(
    id: string,
    patch: { name?: string; description?: string | null; configSchema?: ConfigSchemaItem[]; trustedOrigins?: string[]; privateNetwork?: boolean; updatedAt: string },
  ): Promise<void> {
    await unique(
      `Integration "${patch.name ?? ""}"`,
      this.db
        .updateTable("integrations")
        .set({
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.configSchema === undefined ? {} : { config_schema: JSON.stringify(patch.configSchema) }),
          ...(patch.trustedOrigins === undefined ? {} : { trusted_origins: JSON.stringify(patch.trustedOrigins) }),
          ...(patch.privateNetwork === undefined ? {} : { private_network: patch.privateNetwork ? 1 : 0 }),
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

  async countMappings(integrationId: string): Promise<number> {
    const row = await this.db.selectFrom("mappings").select((eb) => eb.fn.countAll().as("n")).where("integration_id", "=", integrationId).executeTakeFirst();
    return Number(row?.n ?? 0);
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
    await uniqueMapping(
      this.db
        .insertInto("mappings")
        .values(mappingRow(m))
        .execute(),
    );
  }
  async insertMappingIfAbsent(m: Mapping): Promise<Mapping> {
    // ON CONFLICT on (integration_id, org_id) only: an entity id taken by another org still raises.
    await uniqueMapping(
      this.db
        .insertInto("mappings")
        .values(mappingRow(m))
        .onConflict((oc) => oc.columns(["integration_id", "org_id"]).doNothing())
        .execute(),
    );
    const stored = await this.getMapping(m.integrationId, m.orgId);
    if (!stored) throw new Error(`mapping of org ${m.orgId} vanished right after it was written`);
    return stored;
  }
  async updateMapping(id: string, patch: { entityId?: string | null; entityName?: string | null; updatedAt: string }): Promise<void> {
    await uniqueMapping(
      this.db
        .updateTable("mappings")
        .set({
          ...(patch.entityId === undefined ? {} : { entity_id: patch.entityId, entity_key: patch.entityId === null ? null : entityKey(patch.entityId) }),
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
    // One statement on the partial unique index of the value's level (defaults or an org's overrides).
    await this.db
      .insertInto("config_values")
      .values({ id: v.id, integration_id: v.integrationId, org_id: v.orgId, key: v.key, ...row })
      .onConflict((oc) => {
        const target = v.orgId === null ? oc.columns(["integration_id", "key"]).where("org_id", "is", null) : oc.columns(["integration_id", "org_id", "key"]).where("org_id", "is not", null);
        return target.doUpdateSet((eb) => ({
          id: eb.ref("excluded.id"),
          value: eb.ref("excluded.value"),
          is_secret: eb.ref("excluded.is_secret"),
          fingerprint: eb.ref("excluded.fingerprint"),
          updated_at: eb.ref("excluded.updated_at"),
        }));
      })
      .execute();
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

  async getOAuthProvider(integrationId: string): Promise<StoredOAuthProvider | null> {
    const r = await this.db.selectFrom("oauth_providers").selectAll().where("integration_id", "=", integrationId).executeTakeFirst();
    return r ? toProvider(r) : null;
  }
  async putOAuthProvider(p: StoredOAuthProvider): Promise<void> {
    const row = { flow: p.flow, settings: p.settings, client_secret: p.clientSecret, client_secret_fingerprint: p.clientSecretFingerprint, updated_at: p.updatedAt };
    const res = await this.db.updateTable("oauth_providers").set(row).where("id", "=", p.id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      await unique(
        "An OAuth provider for this integration",
        this.db.insertInto("oauth_providers").values({ id: p.id, integration_id: p.integrationId, created_at: p.createdAt, ...row }).execute(),
      );
    }
  }
  async setSecretFingerprint(target: { table: "config_values" | "oauth_providers"; id: string; integrationId: string; ciphertext: string }, fingerprint: string): Promise<boolean> {
    const res =
      target.table === "config_values"
        ? await this.db.updateTable("config_values").set({ fingerprint }).where("id", "=", target.id).where("value", "=", target.ciphertext).where("is_secret", "=", 1).executeTakeFirst()
        : await this.db.updateTable("oauth_providers").set({ client_secret_fingerprint: fingerprint }).where("id", "=", target.id).where("client_secret", "=", target.ciphertext).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
  async hasUnboundFingerprints(): Promise<boolean> {
    // Row-bound fingerprints are exactly "hmac-sha256:" + 16 hex digits (isRowBoundFingerprint); anything else (the
    // 12-digit unbound form, NULL) needs recomputing. Only this process's own code writes them, so the length decides.
    const bound = ROW_BOUND_FINGERPRINT_LENGTH;
    const value = await this.db
      .selectFrom("config_values")
      .select("id")
      .where("is_secret", "=", 1)
      .where((eb) => eb.or([eb("fingerprint", "is", null), eb(eb.fn<number>("length", ["fingerprint"]), "<>", bound)]))
      .limit(1)
      .executeTakeFirst();
    if (value) return true;
    const provider = await this.db
      .selectFrom("oauth_providers")
      .select("id")
      .where((eb) => eb(eb.fn<number>("length", ["client_secret_fingerprint"]), "<>", bound))
      .limit(1)
      .executeTakeFirst();
    return provider !== undefined;
  }
  async deleteOAuthProvider(integrationId: string): Promise<void> {
    await this.db.deleteFrom("oauth_providers").where("integration_id", "=", integrationId).execute();
  }

  async getOAuthToken(id: string): Promise<StoredOAuthToken | null> {
    const r = await this.db.selectFrom("oauth_tokens").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toOAuthToken(r) : null;
  }
  async findOAuthTokens(integrationId: string, ownerKeys: readonly string[]): Promise<StoredOAuthToken[]> {
    if (ownerKeys.length === 0) return [];
    const rows = await this.db.selectFrom("oauth_tokens").selectAll().where("integration_id", "=", integrationId).where("owner_key", "in", [...ownerKeys]).execute();
    return rows.map(toOAuthToken);
  }
  async listOAuthTokens(filter: { integrationId?: string; orgId?: string }): Promise<StoredOAuthToken[]> {
    let q = this.db.selectFrom("oauth_tokens").selectAll();
    if (filter.integrationId !== undefined) q = q.where("integration_id", "=", filter.integrationId);
    if (filter.orgId !== undefined) q = q.where("org_id", "=", filter.orgId);
    return (await q.orderBy("created_at").orderBy("id").execute()).map(toOAuthToken);
  }
  async insertOAuthTokenIfAbsent(t: StoredOAuthToken): Promise<StoredOAuthToken> {
    await this.db
      .insertInto("oauth_tokens")
      .values({
        id: t.id,
        integration_id: t.integrationId,
        org_id: t.orgId,
        mapping_id: t.mappingId,
        owner_key: t.ownerKey,
        state: t.state,
        access_token: t.accessToken,
        refresh_token: t.refreshToken,
        token_type: t.tokenType,
        expires_at: t.expiresAt,
        obtained_at: t.obtainedAt,
        scopes: JSON.stringify(t.scopes),
        extra: JSON.stringify(t.extra),
        last_refresh_at: t.lastRefreshAt,
        last_error: t.lastError,
        failure_count: t.failureCount,
        next_attempt_at: t.nextAttemptAt,
        claimed_until: t.claimedUntil,
        refresh_started_at: t.refreshStartedAt,
        refresh_owner: t.refreshOwner,
        version: t.version,
        created_at: t.createdAt,
        updated_at: t.updatedAt,
      })
      .onConflict((oc) => oc.columns(["integration_id", "owner_key"]).doNothing())
      .execute();
    const r = await this.db.selectFrom("oauth_tokens").selectAll().where("integration_id", "=", t.integrationId).where("owner_key", "=", t.ownerKey).executeTakeFirstOrThrow();
    return toOAuthToken(r);
  }
  async updateOAuthToken(id: string, patch: OAuthTokenPatch, opts: { expectVersion?: number; bumpVersion?: boolean } = {}): Promise<boolean> {
    let q = this.db.updateTable("oauth_tokens").set(tokenColumns(patch));
    if (opts.bumpVersion) q = q.set((eb) => ({ version: eb("version", "+", 1) }));
    q = q.where("id", "=", id);
    if (opts.expectVersion !== undefined) q = q.where("version", "=", opts.expectVersion);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
  async updateOAuthTokenReturning(id: string, patch: OAuthTokenPatch, opts: { expectVersion?: number; bumpVersion?: boolean } = {}): Promise<StoredOAuthToken | null> {
    let q = this.db.updateTable("oauth_tokens").set(tokenColumns(patch));
    if (opts.bumpVersion) q = q.set((eb) => ({ version: eb("version", "+", 1) }));
    q = q.where("id", "=", id);
    if (opts.expectVersion !== undefined) q = q.where("version", "=", opts.expectVersion);
    const r = await q.returningAll().executeTakeFirst();
    return r ? toOAuthToken(r) : null;
  }
  async markOAuthRefreshStarted(id: string, owner: string, at: string, seen?: RowStamp): Promise<void> {
    if (this.#dialect.markOAuthRefreshStarted) return this.#dialect.markOAuthRefreshStarted(this, id, owner, at, seen);
    await this.db.updateTable("oauth_tokens").set({ state: "refreshing", refresh_started_at: at, refresh_owner: owner, updated_at: at }).where("id", "=", id).execute();
  }
  /** The provider and candidate token rows for resolve (used where the resolve query does not carry them). */
  async resolveOAuthRows(rows: ResolveRows, orgId: string | null): Promise<ResolveRows> {
    if (!rows.hasOAuth) return rows;
    const provider = await this.getOAuthProvider(rows.integration.id);
    if (!provider) return { ...rows, hasOAuth: false };
    const keys = ["i", ...(orgId ? [`o:${orgId}`] : []), ...(rows.mapping ? [`m:${rows.mapping.id}`] : [])];
    return { ...rows, oauth: { provider, tokens: await this.findOAuthTokens(rows.integration.id, keys) } };
  }
  lockOrAwaitOAuthToken<T>(tokenId: string, claim: RefreshClaim | null, fn: LockBody<T>): Promise<LockOrAwait<T>> {
    return this.#dialect.lockOrAwaitOAuthToken(this, tokenId, claim, fn);
  }
  async deleteOAuthToken(id: string): Promise<void> {
    await this.db.deleteFrom("oauth_tokens").where("id", "=", id).execute();
  }
  withOAuthTokenLock<T>(tokenId: string, fn: LockBody<T>): Promise<T> {
    return this.#dialect.withOAuthTokenLock(this, tokenId, fn);
  }
  claimOAuthRefreshWork(opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]> {
    return this.#dialect.claimOAuthRefreshWork(this, opts);
  }

  async insertOAuthState(s: StoredOAuthState): Promise<void> {
    await this.db
      .insertInto("oauth_states")
      .values({
        state: s.state,
        integration_id: s.integrationId,
        org_id: s.orgId,
        mapping_id: s.mappingId,
        code_verifier: s.codeVerifier,
        initiator_key_id: s.initiatorKeyId,
        issuer: s.issuer,
        redirect_uri: s.redirectUri,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        consumed: s.consumed ? 1 : 0,
        outcome: s.outcome,
      })
      .execute();
  }
  async getOAuthState(state: string): Promise<StoredOAuthState | null> {
    const r = await this.db.selectFrom("oauth_states").selectAll().where("state", "=", state).executeTakeFirst();
    return r ? toState(r) : null;
  }
  async consumeOAuthState(state: string, outcome: string): Promise<boolean> {
    const res = await this.db.updateTable("oauth_states").set({ consumed: 1, outcome }).where("state", "=", state).where("consumed", "=", 0).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
  async setOAuthStateOutcome(state: string, outcome: string): Promise<void> {
    await this.db.updateTable("oauth_states").set({ outcome }).where("state", "=", state).execute();
  }
  async deleteExpiredOAuthStates(before: string): Promise<number> {
    const res = await this.db.deleteFrom("oauth_states").where("expires_at", "<", before).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async insertConnectLink(l: StoredConnectLink): Promise<void> {
    await this.db
      .insertInto("connect_links")
      .values({
        id: l.id,
        token_hash: l.tokenHash,
        integration_id: l.integrationId,
        org_id: l.orgId,
        created_by: l.createdBy,
        created_at: l.createdAt,
        expires_at: l.expiresAt,
        used_at: l.usedAt,
        revoked_at: l.revokedAt,
        expiry_recorded_at: l.expiryRecordedAt,
      })
      .execute();
  }
  async getConnectLink(id: string): Promise<StoredConnectLink | null> {
    const r = await this.db.selectFrom("connect_links").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toConnectLink(r) : null;
  }
  async getConnectLinkByHash(tokenHash: string): Promise<StoredConnectLink | null> {
    const r = await this.db.selectFrom("connect_links").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    return r ? toConnectLink(r) : null;
  }
  async listConnectLinks(filter: { integrationId?: string; orgId?: string; limit?: number; before?: { createdAt: string; id: string } }): Promise<StoredConnectLink[]> {
    let q = this.db.selectFrom("connect_links").selectAll();
    const before = filter.before;
    if (before) q = q.where((eb) => eb.or([eb("created_at", "<", before.createdAt), eb.and([eb("created_at", "=", before.createdAt), eb("id", "<", before.id)])]));
    if (filter.integrationId !== undefined) q = q.where("integration_id", "=", filter.integrationId);
    if (filter.orgId !== undefined) q = q.where("org_id", "=", filter.orgId);
    return (await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit ?? 1000).execute()).map(toConnectLink);
  }
  async useConnectLink(id: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable("connect_links")
      .set({ used_at: at })
      .where("id", "=", id)
      .where("used_at", "is", null)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", at)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
  async revokeConnectLink(id: string, at: string): Promise<boolean> {
    const res = await this.db.updateTable("connect_links").set({ revoked_at: at }).where("id", "=", id).where("used_at", "is", null).where("revoked_at", "is", null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
  async markConnectLinkExpiryRecorded(id: string, at: string): Promise<boolean> {
    const res = await this.db.updateTable("connect_links").set({ expiry_recorded_at: at }).where("id", "=", id).where("expiry_recorded_at", "is", null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async insertOAuthEvent(e: StoredOAuthEvent): Promise<void> {
    await this.db
      .insertInto("oauth_events")
      .values({ id: e.id, type: e.type, integration_id: e.integrationId, org_id: e.orgId, payload: JSON.stringify(e.payload), created_at: e.createdAt })
      .execute();
    await this.db.insertInto("oauth_webhook_deliveries").values({ event_id: e.id, created_at: e.createdAt, attempts: 0, next_attempt_at: e.createdAt }).execute();
  }
  async listOAuthEvents(filter: { integrationId?: string; orgId?: string; type?: string; after?: string; afterKey?: { createdAt: string; id: string }; like?: string; limit?: number }): Promise<StoredOAuthEvent[]> {
    let q = this.db.selectFrom("oauth_events").selectAll();
    const key = filter.afterKey;
    if (key) q = q.where((eb) => eb.or([eb("created_at", ">", key.createdAt), eb.and([eb("created_at", "=", key.createdAt), eb("id", ">", key.id)])]));
    if (filter.like !== undefined) q = q.where(this.#like(filter.like, ["type"]));
    if (filter.integrationId !== undefined) q = q.where("integration_id", "=", filter.integrationId);
    if (filter.orgId !== undefined) q = q.where("org_id", "=", filter.orgId);
    if (filter.type !== undefined) q = q.where("type", "=", filter.type);
    if (filter.after !== undefined) q = q.where("created_at", ">", filter.after);
    return (await q.orderBy("created_at").orderBy("id").limit(filter.limit ?? 1000).execute()).map(toEvent);
  }

  async claimWebhookDeliveries(opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<Array<{ event: StoredOAuthEvent; attempts: number }>> {
    const claims = await this.#dialect.claimWebhookDeliveries(this, opts);
    if (claims.length === 0) return [];
    const rows = await this.db.selectFrom("oauth_events").selectAll().where("id", "in", claims.map((c) => c.event_id)).orderBy("created_at").orderBy("id").execute();
    const attempts = new Map(claims.map((c) => [c.event_id, Number(c.attempts)]));
    return rows.map((r) => ({ event: toEvent(r), attempts: attempts.get(r.id) ?? 0 }));
  }
  async finishWebhookDelivery(eventId: string, owner: string, outcome: { deliveredAt: string } | { attempts: number; nextAttemptAt: string; error: string }): Promise<boolean> {
    const set =
      "deliveredAt" in outcome
        ? { delivered_at: outcome.deliveredAt, lease_until: null, lease_owner: null, last_error: null }
        : { attempts: outcome.attempts, next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 300), lease_until: null, lease_owner: null };
    const res = await this.db.updateTable("oauth_webhook_deliveries").set(set).where("event_id", "=", eventId).where("lease_owner", "=", owner).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async insertAuditEntries(entries: readonly StoredAuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map(
      (e): AuditLogTable => ({
          id: e.id,
          at: e.at,
          action: e.action,
          actor_kind: e.actor.kind,
          actor_key_id: e.actor.keyId,
          actor_key_prefix: e.actor.keyPrefix,
          actor_key_name: e.actor.keyName,
          actor_via: e.actor.via,
          org_id: e.orgId,
          org_slug: e.orgSlug,
          integration_id: e.integrationId,
          integration_name: e.integrationName,
          keys: JSON.stringify(e.keys),
          detail: JSON.stringify(e.detail),
          request_id: e.requestId,
          execution_id: e.executionId,
        }),
    );
    if (await this.#dialect.insertAuditRows?.(this, rows)) return;
    await this.db.insertInto("audit_log").values(rows).execute();
  }
  async listAuditEntries(query: AuditQuery): Promise<StoredAuditEntry[]> {
    let q = this.db.selectFrom("audit_log").selectAll();
    const { org, integration, before } = query;
    if (org) q = "id" in org ? q.where("org_id", "=", org.id) : q.where("org_slug", "=", org.slug);
    if (integration) q = "id" in integration ? q.where("integration_id", "=", integration.id) : q.where("integration_name", "=", integration.name);
    if (query.action !== undefined) q = q.where("action", "=", query.action);
    if (query.since !== undefined) q = q.where("at", ">=", query.since);
    if (before) q = q.where((eb) => eb.or([eb("at", "<", before.at), eb.and([eb("at", "=", before.at), eb("id", "<", before.id)])]));
    return (await q.orderBy("at", "desc").orderBy("id", "desc").limit(query.limit).execute()).map(toAuditEntry);
  }
  async deleteAuditEntriesBefore(before: string): Promise<number> {
    const res = await this.db.deleteFrom("audit_log").where("at", "<", before).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async getCanaries(): Promise<Array<{ kid: string; value: string }>> {
    return this.db.selectFrom("keyring_canaries").select(["kid", "value"]).orderBy("kid").execute();
  }
  async putCanary(kid: string, value: string, at: string): Promise<void> {
    await this.db.insertInto("keyring_canaries").values({ kid, value, created_at: at }).execute();
  }
  async deleteCanary(kid: string): Promise<void> {
    await this.db.deleteFrom("keyring_canaries").where("kid", "=", kid).execute();
  }

  async countCiphertexts(): Promise<CiphertextCount[]> {
    const out: CiphertextCount[] = [];
    for (const c of CIPHERTEXT_COLUMNS) {
      const col = sql.ref(c.column);
      const only = c.only ? sql`AND ${sql.ref(c.only.column)} = ${c.only.equals}` : sql``;
      const res = await sql<{ kid: string; n: number | string }>`
        SELECT ${this.#dialect.kidOf(c.column)} AS kid, COUNT(*) AS n FROM ${sql.table(c.table)}
        WHERE substr(${col}, 1, 3) = 'v1.' ${only} GROUP BY 1 ORDER BY 1`.execute(this.db);
      for (const r of res.rows) out.push({ table: c.table, column: c.column, kid: r.kid, count: Number(r.n) });
    }
    return out;
  }

  async rewrapCiphertexts(c: CiphertextColumn, opts: { activeKid: string; limit: number; after: string | null }, rewrap: (row: CiphertextRow) => Rewrapped | null): Promise<RewrapBatch> {
    const col = sql.ref(c.column);
    const id = sql.ref(c.id);
    const current = `v1.${opts.activeKid}.`;
    const batch = async (db: Executor): Promise<RewrapBatch> => {
      const rows = await sql<{ id: string; value: string; tenant: string | null; field: string | null }>`
        SELECT ${id} AS id, ${col} AS value, ${c.tenant ? sql.ref(c.tenant) : sql`NULL`} AS tenant, ${"column" in c.field ? sql.ref(c.field.column) : sql`NULL`} AS field
        FROM ${sql.table(c.table)}
        WHERE substr(${col}, 1, 3) = 'v1.' AND substr(${col}, 1, ${current.length}) <> ${current}
          ${c.only ? sql`AND ${sql.ref(c.only.column)} = ${c.only.equals}` : sql``}
          ${opts.after === null ? sql`` : sql`AND ${id} > ${opts.after}`}
        ORDER BY ${id} LIMIT ${opts.limit} ${this.#dialect.claimRows}`.execute(db);
      const result: RewrapBatch = { claimed: rows.rows.length, rewrapped: 0, superseded: 0, failed: [], last: rows.rows.at(-1)?.id ?? null };
      const writes: Array<{ id: string; old: string; next: Rewrapped }> = [];
      for (const r of rows.rows) {
        const next = rewrap({ id: r.id, value: r.value, tenant: r.tenant, field: "name" in c.field ? c.field.name : (r.field ?? "") });
        if (next === null) result.failed.push(r.id);
        else writes.push({ id: r.id, old: r.value, next });
      }
      if (writes.length > 0) {
        // One statement for the batch; each row only where it still holds the value read.
        const values = sql.join(writes.map((w) => sql`(${w.id}, ${w.old}, ${w.next.value}, ${w.next.fingerprint ?? ""})`));
        const fingerprint = c.fingerprint ? sql`, ${sql.ref(c.fingerprint)} = v.fp` : sql``;
        const res = await sql`WITH v(id, old, next, fp) AS (VALUES ${values})
          UPDATE ${sql.table(c.table)} SET ${col} = v.next${fingerprint} FROM v WHERE ${sql.ref(`${c.table}.${c.id}`)} = v.id AND ${sql.ref(`${c.table}.${c.column}`)} = v.old`.execute(db);
        result.rewrapped = Number(res.numAffectedRows ?? 0);
        result.superseded = writes.length - result.rewrapped;
      }
      return result;
    };
    return this.db.isTransaction ? batch(this.db) : this.#dialect.writeTransaction(this.db as Kysely<Database>, batch);
  }
}
