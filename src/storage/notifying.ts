/**
 * The one write path for cache invalidation: a wrapper around a Store that, for every write that can
 * change what `integrations.get()` or authentication return (orgs, integrations and schemas,
 * mappings, config values, OAuth providers and tokens, API keys):
 * - PostgreSQL: sends `NOTIFY bifrost_changes, '<integration/org/key id>'` in the same transaction as
 *   the change (a write outside a transaction is wrapped in one), so listeners hear of it after commit;
 * - both: invalidates this process's ChangeFeed after the write (after the outermost commit).
 * Bookkeeping writes (lastUsedAt, OAuth states, events, claims, canaries) pass straight through.
 */
import type { ChangeFeed } from "../cache/change-feed.js";
import type { Integration, Mapping, Organization } from "../core/types.js";
import type { Store, StoredApiKey, StoredConfigValue, StoredOAuthProvider, StoredOAuthToken } from "./store.js";

type IdOf = (args: readonly unknown[]) => string;
const first: IdOf = (a) => String(a[0]);

/** Write methods → the id named in the notification. */
const WRITES: Readonly<Record<string, IdOf>> = {
  insertOrg: (a) => (a[0] as Organization).id,
  updateOrg: first,
  deleteOrg: first,
  insertIntegration: (a) => (a[0] as Integration).id,
  updateIntegration: first,
  deleteIntegration: first,
  insertMapping: (a) => (a[0] as Mapping).integrationId,
  updateMapping: first,
  deleteMapping: first,
  upsertConfigValue: (a) => (a[0] as StoredConfigValue).integrationId,
  deleteConfigValues: first,
  insertApiKey: (a) => (a[0] as StoredApiKey).id,
  revokeApiKey: first,
  putOAuthProvider: (a) => (a[0] as StoredOAuthProvider).integrationId,
  deleteOAuthProvider: first,
  setSecretFingerprint: (a) => (a[0] as { integrationId: string }).integrationId,
  insertOAuthTokenIfAbsent: (a) => (a[0] as StoredOAuthToken).integrationId,
  updateOAuthToken: first,
  updateOAuthTokenReturning: first,
  deleteOAuthToken: first,
};

/** Methods that run a callback with a transaction-bound store. */
const WITH_TX = new Set(["transaction", "withOAuthTokenLock", "tryOAuthTokenLock"]);

/** A store able to send a change notification on its own executor (PostgresStore). */
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
    const idOf = WRITES[prop];
    if (idOf) {
      if (tx) {
        // Inside a transaction: notify in it (once per id); the root invalidates after commit.
        return async (...args: unknown[]) => {
          const result = await fn.apply(target, args);
          const id = idOf(args);
          if (!tx.notified.has(id)) {
            tx.notified.add(id);
            if (notifies) await (target as Store & Notifier).notifyChange(id);
          }
          return result;
        };
      }
      return async (...args: unknown[]) => {
        const id = idOf(args);
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
    if (WITH_TX.has(prop)) {
      return async (...args: unknown[]) => {
        const state: TxState = tx ?? { notified: new Set() };
        const cb = args[args.length - 1] as (t: Store) => Promise<unknown>;
        const rest = args.slice(0, -1);
        try {
          return await fn.apply(target, [...rest, (t: Store) => cb(wrap(t, feed, state))]);
        } finally {
          if (!tx && state.notified.size > 0) feed.invalidate();
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
