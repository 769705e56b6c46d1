/**
 * The one write path for cache invalidation: a wrapper around a Store that, for every write that can
 * change what `integrations.get()` or authentication return (orgs, integrations and schemas,
 * mappings, config values, OAuth providers and tokens, API keys):
 * - PostgreSQL: sends `NOTIFY bifrost_changes, '<integration/org/key id>'` in the same transaction as
 *   the change (a write outside a transaction is wrapped in one), so listeners hear of it after commit;
 * - both: invalidates this process's ChangeFeed after the write (after the outermost commit).
 *
 * `STORE_METHODS` classifies every Store method; a Store method missing from it is a type error.
 * Bookkeeping writes (lastUsedAt, OAuth states, events, claims, canaries) pass straight through.
 */
import type { ChangeFeed } from "../cache/change-feed.js";
import type { Store } from "./store.js";

/** The names of the Store's methods (not its `dialect` / `changes` properties). */
export type StoreMethod = { [K in keyof Store]-?: NonNullable<Store[K]> extends (...args: never[]) => unknown ? K : never }[keyof Store];

type Args<K extends StoreMethod> = Parameters<Store[K]>;

/** How the wrapper treats one Store method. */
export type MethodAccess<K extends StoreMethod> =
  /** Reads nothing cached can go stale over. */
  | { readonly kind: "read" }
  /** Changes what a cache holds: notifies and invalidates; `id` names the change in the notification. */
  | { readonly kind: "write"; readonly id: (...args: Args<K>) => string }
  /** Writes rows no cache holds (usage stamps, OAuth states and events, claims, canaries). */
  | { readonly kind: "bookkeeping" }
  /** Runs a callback with a transaction-bound store, which is wrapped in turn. */
  | { readonly kind: "transaction" }
  /** Opens or closes the store itself. */
  | { readonly kind: "lifecycle" };

const read = { kind: "read" } as const;
const bookkeeping = { kind: "bookkeeping" } as const;
const transaction = { kind: "transaction" } as const;
const lifecycle = { kind: "lifecycle" } as const;

/** Every Store method, classified. */
export const STORE_METHODS = {
  transaction,
  retryingTransaction: transaction,
  withOAuthTokenLock: transaction,
  lockOrAwaitOAuthToken: transaction,
  migrate: lifecycle,
  checkReadiness: read,
  close: lifecycle,

  listOrgs: read,
  pageOrgs: read,
  getOrgBySlug: read,
  getOrgById: read,
  insertOrg: { kind: "write", id: (org) => org.id },
  updateOrg: { kind: "write", id: (id) => id },
  deleteOrg: { kind: "write", id: (id) => id },

  listIntegrations: read,
  pageIntegrations: read,
  getIntegrationByName: read,
  getIntegrationById: read,
  insertIntegration: { kind: "write", id: (integration) => integration.id },
  updateIntegration: { kind: "write", id: (id) => id },
  deleteIntegration: { kind: "write", id: (id) => id },

  listMappings: read,
  countMappings: read,
  pageMappings: read,
  getMapping: read,
  insertMapping: { kind: "write", id: (mapping) => mapping.integrationId },
  insertMappingIfAbsent: { kind: "write", id: (mapping) => mapping.integrationId },
  updateMapping: { kind: "write", id: (id) => id },
  deleteMapping: { kind: "write", id: (id) => id },

  listConfigValues: read,
  upsertConfigValue: { kind: "write", id: (value) => value.integrationId },
  deleteConfigValues: { kind: "write", id: (integrationId) => integrationId },
  countOrgValues: read,
  resolve: read,
  listForOrg: read,

  insertApiKey: { kind: "write", id: (key) => key.id },
  getApiKeyByPrefix: read,
  listApiKeys: read,
  pageApiKeys: read,
  revokeApiKey: { kind: "write", id: (id) => id },
  touchApiKey: bookkeeping,

  getOAuthProvider: read,
  putOAuthProvider: { kind: "write", id: (provider) => provider.integrationId },
  deleteOAuthProvider: { kind: "write", id: (integrationId) => integrationId },
  setSecretFingerprint: { kind: "write", id: (target) => target.integrationId },
  hasUnboundFingerprints: read,

  getOAuthToken: read,
  findOAuthTokens: read,
  listOAuthTokens: read,
  insertOAuthTokenIfAbsent: { kind: "write", id: (token) => token.integrationId },
  updateOAuthToken: { kind: "write", id: (id) => id },
  updateOAuthTokenReturning: { kind: "write", id: (id) => id },
  deleteOAuthToken: { kind: "write", id: (id) => id },
  markOAuthRefreshStarted: bookkeeping,
  claimOAuthRefreshWork: bookkeeping,

  insertOAuthState: bookkeeping,
  getOAuthState: read,
  consumeOAuthState: bookkeeping,
  setOAuthStateOutcome: bookkeeping,
  deleteExpiredOAuthStates: bookkeeping,

  insertConnectLink: bookkeeping,
  getConnectLink: read,
  getConnectLinkByHash: read,
  listConnectLinks: read,
  useConnectLink: bookkeeping,
  revokeConnectLink: bookkeeping,
  markConnectLinkExpiryRecorded: bookkeeping,

  insertOAuthEvent: bookkeeping,
  claimWebhookDeliveries: bookkeeping,
  finishWebhookDelivery: bookkeeping,
  listOAuthEvents: read,

  insertAuditEntries: bookkeeping,
  listAuditEntries: read,
  listConnections: read,
  listIntegrationOrgs: read,
  countIntegrationOrgs: read,
  deleteAuditEntriesBefore: bookkeeping,

  getCanaries: read,
  putCanary: bookkeeping,
  deleteCanary: bookkeeping,
  countCiphertexts: read,
  // A rewrap changes ciphertexts, never the plaintext a cache holds (the provider cache is keyed by
  // ciphertext): announcing every batch would only empty every process's caches during a rewrap.
  rewrapCiphertexts: bookkeeping,
} as const satisfies { readonly [K in StoreMethod]: MethodAccess<K> };

/** The Store methods that change what a cache holds. */
export type WriteMethod = { [K in StoreMethod]: (typeof STORE_METHODS)[K] extends { kind: "write" } ? K : never }[StoreMethod];

type IdOf = (...args: readonly unknown[]) => string;
type Classified = { readonly kind: MethodAccess<StoreMethod>["kind"]; readonly id?: IdOf };

/** The classification of a property looked up by name (undefined for anything not a Store method). */
function accessOf(prop: string): Classified | undefined {
  return Object.hasOwn(STORE_METHODS, prop) ? (STORE_METHODS as unknown as Readonly<Record<string, Classified>>)[prop] : undefined;
}

/** The id a write names, or null when `prop` is not a cache-changing write. */
function writeId(prop: string): IdOf | null {
  const access = accessOf(prop);
  return access?.kind === "write" && access.id ? access.id : null;
}

function runsInTransaction(prop: string): boolean {
  return accessOf(prop)?.kind === "transaction";
}

/** A store able to send a change notification on its own executor (PostgreSQL). */
interface Notifier {
  notifyChange(id: string): Promise<void>;
}

function canNotify(s: Store): s is Store & Notifier {
  return typeof (s as Partial<Notifier>).notifyChange === "function";
}

/** One transaction's bookkeeping: ids already notified inside it. */
interface TxState {
  notified: Set<string>;
}

/** Wrap `store` (a root, non-transaction store) so its writes notify `feed` (and other processes). */
export function withChangeNotifications(store: Store, feed: ChangeFeed): Store {
  return wrap(store, feed, null);
}

function wrap(target: Store, feed: ChangeFeed, tx: TxState | null): Store {
  const bound = new Map<PropertyKey, unknown>();
  const notifies = canNotify(target);
  const methodFor = (prop: string, fn: (...args: unknown[]) => unknown): unknown => {
    const idOf = writeId(prop);
    if (idOf) {
      if (tx) {
        // Inside a transaction: notify in it (once per id); the root invalidates after commit.
        return async (...args: unknown[]) => {
          const result = await fn.apply(target, args);
          const id = idOf(...args);
          if (!tx.notified.has(id)) {
            tx.notified.add(id);
            if (notifies) await (target as Store & Notifier).notifyChange(id);
          }
          return result;
        };
      }
      return async (...args: unknown[]) => {
        const id = idOf(...args);
        try {
          if (!notifies) return await fn.apply(target, args);
          return await target.transaction(async (t) => {
            const result = await (t as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args);
            await (t as Store & Notifier).notifyChange(id);
            return result;
          });
        } finally {
          feed.invalidate(id);
        }
      };
    }
    if (runsInTransaction(prop)) {
      return async (...args: unknown[]) => {
        // A retried transaction runs its callback again: each attempt notifies afresh (a rolled-back
        // attempt's NOTIFY was never delivered); the root invalidates if any attempt wrote.
        const attempts: TxState[] = [];
        const cb = args[args.length - 1] as (t: Store) => Promise<unknown>;
        const rest = args.slice(0, -1);
        try {
          return await fn.apply(target, [
            ...rest,
            (t: Store, ...more: unknown[]) => {
              const state: TxState = tx ?? { notified: new Set() };
              attempts.push(state);
              return (cb as (t: Store, ...more: unknown[]) => Promise<unknown>)(wrap(t, feed, state), ...more);
            },
          ]);
        } finally {
          if (!tx && attempts.some((s) => s.notified.size > 0)) feed.invalidate();
        }
      };
    }
    return fn.bind(target);
  };
  return new Proxy(target, {
    get(t, prop) {
      if (prop === "changes") return feed;
      if (prop === "close" && !tx) {
        return async () => {
          await feed.close();
          await t.close();
        };
      }
      const cached = bound.get(prop);
      if (cached !== undefined) return cached;
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== "function" || typeof prop !== "string") return v;
      const m = methodFor(prop, v as (...args: unknown[]) => unknown);
      bound.set(prop, m);
      return m;
    },
  });
}
