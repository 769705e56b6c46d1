import type { CiphertextColumn, CiphertextCount, CiphertextRow, RewrapBatch, Rewrapped } from "./ciphertexts.js";
import type { ChangeFeed } from "../cache/change-feed.js";
import type { ApiKeyRole, Integration, Mapping, Organization } from "../core/types.js";

/** A stored config value; `value` is JSON text, or a ciphertext when `isSecret`. */
export interface StoredConfigValue {
  id: string;
  integrationId: string;
  orgId: string | null;
  key: string;
  value: string;
  isSecret: boolean;
  fingerprint: string | null;
  updatedAt: string;
}

export interface StoredApiKey {
  id: string;
  name: string;
  prefix: string;
  secretHash: string;
  role: ApiKeyRole;
  orgId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Everything `integrations.get(name)` needs for one org, read in a single query. */
export interface ResolveRows {
  integration: { id: string; name: string; configSchema: string; trustedOrigins: string[]; privateNetwork: boolean };
  mapping: { id: string; entityId: string | null; entityName: string | null } | null;
  /** Defaults (orgId null) and this org's overrides. */
  values: StoredConfigValue[];
  /** Whether an OAuth provider is attached (read in the same query). */
  hasOAuth: boolean;
  /**
   * The OAuth provider and this org's candidate token rows (owner keys "i", "o:<org>", "m:<mapping>"),
   * read by the same store call; null when no provider is attached.
   */
  oauth: ResolveOAuthRows | null;
}

interface ResolveOAuthRows {
  provider: StoredOAuthProvider;
  tokens: StoredOAuthToken[];
}

export type OAuthTokenState = "not_connected" | "connected" | "refreshing" | "needs_reauth" | "error";

export interface StoredOAuthProvider {
  id: string;
  integrationId: string;
  flow: string;
  /** JSON text of the provider settings (no secret). */
  settings: string;
  /** Ciphertext. */
  clientSecret: string;
  clientSecretFingerprint: string;
  createdAt: string;
  updatedAt: string;
}

/** One OAuth credential row. Tokens are ciphertexts bound to this row. */
export interface StoredOAuthToken {
  id: string;
  integrationId: string;
  orgId: string | null;
  mappingId: string | null;
  /** "i", "o:<orgId>" or "m:<mappingId>": unique per integration. */
  ownerKey: string;
  state: OAuthTokenState;
  accessToken: string | null;
  refreshToken: string | null;
  tokenType: string | null;
  expiresAt: string | null;
  obtainedAt: string | null;
  scopes: string[];
  extra: Record<string, unknown>;
  lastRefreshAt: string | null;
  lastError: string | null;
  failureCount: number;
  nextAttemptAt: string | null;
  claimedUntil: string | null;
  refreshStartedAt: string | null;
  refreshOwner: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type OAuthTokenPatch = Partial<Omit<StoredOAuthToken, "id" | "integrationId" | "orgId" | "mappingId" | "ownerKey" | "createdAt" | "version">> & { updatedAt: string };

export interface StoredOAuthState {
  state: string;
  integrationId: string;
  orgId: string | null;
  mappingId: string | null;
  /** Ciphertext. */
  codeVerifier: string;
  initiatorKeyId: string | null;
  issuer: string | null;
  redirectUri: string;
  createdAt: string;
  expiresAt: string;
  consumed: boolean;
  outcome: string | null;
}

/** A connect link (issue 15). The token itself is never stored: only its SHA-256 (hex). */
export interface StoredConnectLink {
  id: string;
  tokenHash: string;
  integrationId: string;
  orgId: string;
  /** API key id that created it; null = the local CLI. */
  createdBy: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  /** When the link.expired event was recorded (at most once). */
  expiryRecordedAt: string | null;
}

export interface StoredOAuthEvent {
  id: string;
  type: string;
  integrationId: string;
  orgId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

/** Who an audit entry names: an API key (id, prefix, name; how it acted), the local CLI, or the server itself. */
export interface StoredAuditActor {
  kind: "api_key" | "local_cli" | "system";
  keyId: string | null;
  keyPrefix: string | null;
  keyName: string | null;
  /** For API keys: "api", "console" (a console session's key) or "mcp". */
  via: string | null;
}

/** One append-only audit entry. Names only: never a value, token or secret. */
export interface StoredAuditEntry {
  id: string;
  at: string;
  action: string;
  actor: StoredAuditActor;
  orgId: string | null;
  orgSlug: string | null;
  integrationId: string | null;
  integrationName: string | null;
  /** Config key names (or other names the action touched: API key ids, keyring key ids). */
  keys: string[];
  /** Non-secret facts about the change (fields changed, flow, level, counts). */
  detail: Record<string, unknown>;
  requestId: string | null;
  executionId: string | null;
}

/** Newest first; `before` is the keyset cursor (the last entry of the previous page). */
export interface AuditQuery {
  /** By id when the organization exists, by the recorded slug otherwise. */
  org?: { id: string } | { slug: string };
  integration?: { id: string } | { name: string };
  action?: string;
  /** Entries at or after this ISO time. */
  since?: string;
  before?: { at: string; id: string };
  limit: number;
}

/**
 * One keyset page of a plain list (core/page.ts): rows strictly after `after` (the last row's sort
 * keys), at most `limit`, matching `like` (lower-case LIKE pattern with `\` escapes) when given.
 */
export interface ListPage {
  after?: ReadonlyArray<string | number>;
  like?: string;
  limit: number;
}

/** Sort orders of `Store.listConnections` (each ends with the unique integration name + org slug). */
export type ConnectionSort = "integration" | "org" | "state" | "expires_at" | "last_refresh_at";

/** Filters shared by the connections list and an integration's organizations list. */
interface ConnectionFilters {
  /** An org admin's organization: nothing else is read, whatever the other filters say. */
  scopeOrgId?: string;
  states?: readonly OAuthTokenState[];
  /** Rows whose org has no mapping, or a mapping without entity id (integration-level rows never match). */
  unmapped?: boolean;
  /** Lower-case LIKE pattern with `\` escapes (core/page.ts `likePattern`). */
  like?: string;
  /** The sort keys of the last row of the previous page (`keys` of a returned row). */
  after?: ReadonlyArray<string | number>;
  /** Rows to read (the service asks one more than the page size). */
  limit: number;
}

/**
 * `GET /api/connections`: one row per (integration with an OAuth provider) × organization, plus the
 * integration-level row (orgId null), filtered, sorted and cut in the database.
 */
export interface ConnectionQuery extends ConnectionFilters {
  integrationId?: string;
  orgId?: string;
  /** Connected rows whose expires_at is at or before this ISO time. */
  expiringBefore?: string;
  sort: ConnectionSort;
  order: "asc" | "desc";
}

/** One connection as the store reads it: names and state, never a token. */
export interface StoredConnectionRow {
  integration: string;
  orgId: string | null;
  org: string | null;
  orgName: string | null;
  mapped: boolean;
  entityId: string | null;
  entityName: string | null;
  flow: string;
  state: OAuthTokenState;
  expiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: string | null;
  hasRefreshToken: boolean;
  /** This row's sort keys (the next page's `after`). */
  keys: Array<string | number>;
}

/** `GET /api/console/integrations/:name/organizations`: every organization with its mapping and connection for one integration, by slug. */
export interface IntegrationOrgQuery extends ConnectionFilters {
  integrationId: string;
}

export interface StoredIntegrationOrgRow {
  org: string;
  orgName: string;
  mapped: boolean;
  entityId: string | null;
  entityName: string | null;
  overrideCount: number;
  /** null when the integration has no OAuth provider. */
  state: OAuthTokenState | null;
  expiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: string | null;
  keys: Array<string | number>;
}

/** How many of an integration's organizations have this mapping status and connection state (`Store.countIntegrationOrgs`). */
export interface IntegrationOrgCount {
  mapped: boolean;
  /** Mapped with an entity id (false when not mapped). */
  hasEntityId: boolean;
  /** null when the integration has no OAuth provider. */
  state: OAuthTokenState | null;
  count: number;
}

export interface IntegrationSummaryRow {
  name: string;
  mapped: boolean;
  entityId: string | null;
  entityName: string | null;
}

/** Which state of a token row a decision was made on: any write changes one of the two. */
export interface RowStamp {
  version: number;
  updatedAt: string;
}

/**
 * The body of a refresh-lock transaction: a store bound to it and the token row read holding the lock;
 * `claimed` says the lock's own round trip already set the caller's in-flight marker (see `RefreshClaim`).
 */
export type LockBody<T> = (tx: Store, row: StoredOAuthToken | null, claimed?: boolean) => Promise<T>;

/**
 * A caller of `lockOrAwaitOAuthToken` that decided on `seen` to refresh: when it gets the lock and the
 * row is still that one, the store sets the in-flight marker (`owner`, `at`) in the same round trip and
 * commits it before the body runs (PostgreSQL); the body then gets `claimed` and the row as marked.
 */
export interface RefreshClaim {
  owner: string;
  at: string;
  seen: RowStamp;
}

/** `Store.lockOrAwaitOAuthToken`: ran holding the lock, or waited for the holder and re-read the row. */
export type LockOrAwait<T> = { locked: true; value: T } | { locked: false; row: StoredOAuthToken | null };

/**
 * The storage port. Implementations: SQLite (better-sqlite3) and PostgreSQL (pg), both over Kysely.
 * Methods take and return domain objects; ids are generated by the caller (UUIDs), which lets
 * secrets be encrypted with their row id as associated data before the insert.
 */
export interface Store {
  readonly dialect: "sqlite" | "postgres";
  /**
   * Set on stores opened by `openStore` (see src/storage/notifying.ts): the invalidation feed of this
   * process's caches. Absent = no caching (every read goes to the database).
   */
  readonly changes?: ChangeFeed;

  /** Run `fn` in one transaction; every change inside is committed together or not at all. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Like `transaction`, for a `fn` that touches nothing but the database: when PostgreSQL aborts it
   * as a deadlock or serialization failure, it is rolled back and `fn` runs again (bounded; then
   * BIFROST_DATABASE_BUSY). Inside another transaction it simply joins it. Never for work with
   * outside effects (an OAuth call).
   */
  retryingTransaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  migrate(): Promise<{ applied: string[] }>;
  /**
   * Readiness: the database answers (SQLite: the opened file is still the one at its path), and the
   * migrations of this version not applied yet. Throws BIFROST_DATABASE_UNAVAILABLE when unreachable.
   */
  checkReadiness(): Promise<{ pendingMigrations: string[] }>;
  close(): Promise<void>;

  listOrgs(): Promise<Organization[]>;
  /** Organizations by slug (byte order); `like` matches slug or name; `onlyId` confines to one. */
  pageOrgs(page: ListPage & { onlyId?: string }): Promise<Organization[]>;
  getOrgBySlug(slug: string): Promise<Organization | null>;
  getOrgById(id: string): Promise<Organization | null>;
  insertOrg(org: Organization): Promise<void>;
  updateOrg(id: string, patch: { name?: string; slug?: string; updatedAt: string }): Promise<void>;
  deleteOrg(id: string): Promise<void>;

  listIntegrations(): Promise<Integration[]>;
  /** Integrations by name (byte order); `like` matches the name or description. */
  pageIntegrations(page: ListPage): Promise<Integration[]>;
  getIntegrationByName(name: string): Promise<Integration | null>;
  getIntegrationById(id: string): Promise<Integration | null>;
  insertIntegration(integration: Integration): Promise<void>;
  updateIntegration(
    id: string,
    patch: { name?: string; description?: string | null; configSchema?: Integration["configSchema"]; trustedOrigins?: string[]; privateNetwork?: boolean; updatedAt: string },
  ): Promise<void>;
  deleteIntegration(id: string): Promise<void>;

  listMappings(filter: { integrationId?: string; orgId?: string }): Promise<Mapping[]>;
  /** How many mappings the integration has (COUNT in the database). */
  countMappings(integrationId: string): Promise<number>;
  /** One integration's mappings with their organizations, by org slug; `like` matches org slug/name, entity id/name. */
  pageMappings(page: ListPage & { integrationId: string; orgId?: string }): Promise<Array<{ mapping: Mapping; org: Organization }>>;
  getMapping(integrationId: string, orgId: string): Promise<Mapping | null>;
  insertMapping(mapping: Mapping): Promise<void>;
  /**
   * Insert `mapping` unless the org already has one for the integration (a concurrent writer may have
   * created it a moment ago); returns the stored mapping either way (compare its id with yours).
   * An entity id taken by another org is still BIFROST_CONFLICT.
   */
  insertMappingIfAbsent(mapping: Mapping): Promise<Mapping>;
  updateMapping(id: string, patch: { entityId?: string | null; entityName?: string | null; updatedAt: string }): Promise<void>;
  deleteMapping(id: string): Promise<void>;

  /** `orgId` undefined = every value of the integration; null = defaults only; a string = that org's overrides. */
  listConfigValues(integrationId: string, orgId?: string | null): Promise<StoredConfigValue[]>;
  /**
   * Insert or replace the value of (integration, org, key) in one statement (ON CONFLICT): a writer
   * racing another on the same key never fails. The stored row takes `value.id` (secrets are bound
   * to the row id they were encrypted for).
   */
  upsertConfigValue(value: StoredConfigValue): Promise<void>;
  deleteConfigValues(integrationId: string, orgId: string | null | undefined, keys: readonly string[]): Promise<number>;
  countOrgValues(orgId: string): Promise<number>;

  /** The hot path of `integrations.get()`: one round trip. */
  resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null>;
  /** Every integration with this org's mapping, if any (one query). */
  listForOrg(orgId: string | null): Promise<IntegrationSummaryRow[]>;
  /** One page of connections and the number of rows matching the filters (without the cursor). */
  listConnections(query: ConnectionQuery): Promise<{ rows: StoredConnectionRow[]; total: number }>;
  /** One page of an integration's organizations (mapping, override count, connection) and the matching total. */
  listIntegrationOrgs(query: IntegrationOrgQuery): Promise<{ rows: StoredIntegrationOrgRow[]; total: number }>;
  /** An integration's organizations (only `scopeOrgId` when given) counted by mapping status and connection state, one grouped query. */
  countIntegrationOrgs(query: { integrationId: string; scopeOrgId?: string }): Promise<IntegrationOrgCount[]>;

  insertApiKey(key: StoredApiKey): Promise<void>;
  getApiKeyByPrefix(prefix: string): Promise<StoredApiKey | null>;
  listApiKeys(): Promise<StoredApiKey[]>;
  /** API keys by (created_at, id); `like` matches name or prefix. */
  pageApiKeys(page: ListPage): Promise<StoredApiKey[]>;
  revokeApiKey(id: string, at: string): Promise<void>;
  touchApiKey(id: string, at: string): Promise<void>;

  getOAuthProvider(integrationId: string): Promise<StoredOAuthProvider | null>;
  /** Insert or replace the provider of an integration (one per integration). */
  putOAuthProvider(provider: StoredOAuthProvider): Promise<void>;
  deleteOAuthProvider(integrationId: string): Promise<void>;

  getOAuthToken(id: string): Promise<StoredOAuthToken | null>;
  /** Tokens of one integration whose owner key is in `ownerKeys` (the resolver's precedence candidates). */
  findOAuthTokens(integrationId: string, ownerKeys: readonly string[]): Promise<StoredOAuthToken[]>;
  listOAuthTokens(filter: { integrationId?: string; orgId?: string }): Promise<StoredOAuthToken[]>;
  /** Insert unless a row with the same (integration, owner key) exists; returns the row that is stored. */
  insertOAuthTokenIfAbsent(token: StoredOAuthToken): Promise<StoredOAuthToken>;
  /**
   * Update one token row. With `expectVersion` the write only happens when the row still has that
   * version (fencing); returns whether a row was written. `bumpVersion` increments the version.
   */
  updateOAuthToken(id: string, patch: OAuthTokenPatch, opts?: { expectVersion?: number; bumpVersion?: boolean }): Promise<boolean>;
  /** Like updateOAuthToken, returning the row as written (null when nothing matched). One round trip. */
  updateOAuthTokenReturning(id: string, patch: OAuthTokenPatch, opts?: { expectVersion?: number; bumpVersion?: boolean }): Promise<StoredOAuthToken | null>;
  deleteOAuthToken(id: string): Promise<void>;
  /**
   * The in-flight marker (state refreshing, refresh_started_at, refresh_owner), committed at once and
   * outside the lock transaction, so it survives a crash of the holder. Call it only holding the lock.
   * `owner` is `<pid>:<random>`; `seen` is the row the refresh decision was made on (its version and
   * updated_at). SQLite uses both to make the marker a cross-process claim (see its dialect); a refused
   * claim ends the lock body with an error the lock catches.
   */
  markOAuthRefreshStarted(id: string, owner: string, at: string, seen?: RowStamp): Promise<void>;
  /**
   * Run `fn` holding the cross-process refresh lock of one token row; `fn` gets the row as read after
   * the lock was taken. PostgreSQL: a transaction with `pg_advisory_xact_lock` on a 64-bit hash of the
   * id (released at commit/rollback, also when the connection drops). SQLite: runs `fn` directly (see
   * the SQLite dialect: the in-process single-flight serialises).
   */
  withOAuthTokenLock<T>(tokenId: string, fn: LockBody<T>): Promise<T>;
  /**
   * Take the refresh lock if no one holds it and run `fn` as withOAuthTokenLock does; otherwise never
   * take it, but wait until its holder commits or rolls back and return the row as it is then
   * (PostgreSQL: a shared advisory lock, so every waiter is released together at the holder's commit,
   * without polling and without queueing one by one on the exclusive lock). SQLite: always locked, and
   * `claim` is ignored (the marker is the claim there).
   */
  lockOrAwaitOAuthToken<T>(tokenId: string, claim: RefreshClaim | null, fn: LockBody<T>): Promise<LockOrAwait<T>>;
  /**
   * Claim up to `limit` refreshable tokens expiring before `horizon` and not claimed or backing off:
   * sets `claimed_until` so other refreshers skip them (PostgreSQL: FOR UPDATE SKIP LOCKED). Returns ids.
   */
  claimOAuthRefreshWork(opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]>;

  insertOAuthState(state: StoredOAuthState): Promise<void>;
  getOAuthState(state: string): Promise<StoredOAuthState | null>;
  /** Mark a state consumed; true only for the one caller that flipped it (single use). */
  consumeOAuthState(state: string, outcome: string): Promise<boolean>;
  setOAuthStateOutcome(state: string, outcome: string): Promise<void>;
  deleteExpiredOAuthStates(before: string): Promise<number>;

  insertConnectLink(link: StoredConnectLink): Promise<void>;
  getConnectLink(id: string): Promise<StoredConnectLink | null>;
  getConnectLinkByHash(tokenHash: string): Promise<StoredConnectLink | null>;
  /** Newest first. */
  listConnectLinks(filter: { integrationId?: string; orgId?: string; limit?: number; before?: { createdAt: string; id: string } }): Promise<StoredConnectLink[]>;
  /**
   * Mark a link used at `at`, only while it is unused, unrevoked and `expires_at > at`: true only for
   * the one caller whose conditional update flipped it (two concurrent clicks: exactly one wins).
   */
  useConnectLink(id: string, at: string): Promise<boolean>;
  /** Revoke an unused, unrevoked link; true when this call revoked it. */
  revokeConnectLink(id: string, at: string): Promise<boolean>;
  /** Note that the link's expiry was recorded as an event; true only for the first caller. */
  markConnectLinkExpiryRecorded(id: string, at: string): Promise<boolean>;

  /** Store an event and queue its webhook delivery (same executor: one transaction inside `transaction()`). */
  insertOAuthEvent(event: StoredOAuthEvent): Promise<void>;
  /**
   * Lease up to `limit` due, undelivered webhook deliveries to `owner` until `leaseUntil` (PostgreSQL:
   * FOR UPDATE SKIP LOCKED, so each event goes to one deliverer; an expired lease is claimable again).
   */
  claimWebhookDeliveries(opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<Array<{ event: StoredOAuthEvent; attempts: number }>>;
  /** Record the outcome of a claimed delivery; fenced on the lease owner (false when the lease was lost). */
  finishWebhookDelivery(eventId: string, owner: string, outcome: { deliveredAt: string } | { attempts: number; nextAttemptAt: string; error: string }): Promise<boolean>;
  /** Oldest first by (created_at, id): `after` = created after this time, `afterKey` = the keyset cursor, `like` matches the type. */
  listOAuthEvents(filter: { integrationId?: string; orgId?: string; type?: string; after?: string; afterKey?: { createdAt: string; id: string }; like?: string; limit?: number }): Promise<StoredOAuthEvent[]>;

  /**
   * Replace the fingerprint of one stored secret (`config_values` row or an OAuth provider's client
   * secret), only while the row still holds `ciphertext` (a concurrent write wins). Returns whether it was written.
   */
  setSecretFingerprint(target: { table: "config_values" | "oauth_providers"; id: string; integrationId: string; ciphertext: string }, fingerprint: string): Promise<boolean>;
  /**
   * Whether any stored secret (config value or OAuth client secret) has a fingerprint not in the
   * row-bound form (`hmac-sha256:` + 16 hex digits, see isRowBoundFingerprint): one query, so start-up
   * recomputes fingerprints only when some need it.
   */
  hasUnboundFingerprints(): Promise<boolean>;

  /** Append audit entries, one statement (on this store's executor: inside `transaction()` they commit with the change they record). */
  insertAuditEntries(entries: readonly StoredAuditEntry[]): Promise<void>;
  listAuditEntries(query: AuditQuery): Promise<StoredAuditEntry[]>;
  /** Retention: delete entries older than `before` (the only delete of the audit log). Returns how many. */
  deleteAuditEntriesBefore(before: string): Promise<number>;

  getCanaries(): Promise<Array<{ kid: string; value: string }>>;
  putCanary(kid: string, value: string, at: string): Promise<void>;
  /** Remove the canary of a retired key. */
  deleteCanary(kid: string): Promise<void>;

  /** How many values of every registered encrypted column (storage/ciphertexts.ts) use each key id. */
  countCiphertexts(): Promise<CiphertextCount[]>;
  /**
   * One batch of `bifrost keyring rewrap` on one column, in its own transaction: read up to `limit`
   * values after id `after` (id order) that are not under `activeKid` — PostgreSQL locks them with
   * `FOR UPDATE SKIP LOCKED` (rows another rewrapper holds are left to it); SQLite runs an immediate
   * transaction — pass each to `rewrap`, and write its result only where the row still holds the value
   * that was read (a concurrent write wins), with its fingerprint where the column has one. `rewrap`
   * returns null for a value it cannot re-encrypt.
   */
  rewrapCiphertexts(column: CiphertextColumn, opts: { activeKid: string; limit: number; after: string | null }, rewrap: (row: CiphertextRow) => Rewrapped | null): Promise<RewrapBatch>;
}
