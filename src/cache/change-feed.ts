/**
 * Cache invalidation for the in-process caches of a server process (resolved integrations, API-key
 * verification, org lookups).
 *
 * - Every write of config values, mappings, schemas, integrations, orgs, OAuth providers/tokens and
 *   API keys goes through the store wrapper (src/storage/notifying.ts), which invalidates this feed
 *   after the write and, on PostgreSQL, sends `NOTIFY bifrost_changes, '<id>'` inside the same
 *   transaction, so other processes hear of it only once the change is committed.
 * - On PostgreSQL the feed LISTENs on a dedicated connection. While that connection is not
 *   established (start-up, drop, reconnect) nothing is cached, and every (re)connect clears everything.
 * - Every entry also expires after `ttlMs` (default 1 500 ms, BIFROST_CACHE_TTL_MS; 0 = no caching):
 *   the bound on staleness if a notification is ever lost.
 * - Reads record `epoch` before they query; an entry is stored only when no invalidation happened
 *   meanwhile, so a read that raced a change can never re-insert the old value.
 */
import { createRequire } from "node:module";
import type pg from "pg";

export const CHANGES_CHANNEL = "bifrost_changes";
const DEFAULT_CACHE_TTL_MS = 1_500;
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 2_000;

/** A TTL map owned by a ChangeFeed: cleared by every invalidation. */
export class CacheTable<V> {
  readonly #feed: ChangeFeed;
  readonly #max: number;
  readonly #map = new Map<string, { value: V; expires: number }>();

  constructor(feed: ChangeFeed, max: number) {
    this.#feed = feed;
    this.#max = max;
  }

  get(key: string): V | undefined {
    if (!this.#feed.enabled) return undefined;
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Store `value` unless the feed was invalidated since `epoch` (read before the store query). */
  set(key: string, value: V, epoch: number, ttlMs = this.#feed.ttlMs): void {
    if (!this.#feed.enabled || epoch !== this.#feed.epoch || ttlMs <= 0) return;
    if (this.#map.size >= this.#max && !this.#map.has(key)) this.#map.clear();
    this.#map.set(key, { value, expires: Date.now() + Math.min(ttlMs, this.#feed.ttlMs) });
  }

  /**
   * Until when (Date.now() ms) `value` stays valid as the entry for `key`, provided the feed's
   * `epoch` does not change meanwhile; null when it is not the current, unexpired entry.
   */
  lease(key: string, value: V): number | null {
    if (!this.#feed.enabled) return null;
    const e = this.#map.get(key);
    return e !== undefined && e.value === value && e.expires > Date.now() ? e.expires : null;
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}

export interface ChangeFeedOptions {
  ttlMs?: number;
  /** Called with a short, secret-free message when the LISTEN connection drops or fails. */
  onError?: (message: string) => void;
}

export class ChangeFeed {
  /** Bumped by every invalidation. */
  epoch = 0;
  /** `epoch` (as an int32) in shared memory, once sharedEpoch() was asked for: worker threads read it without a message. */
  #shared: Int32Array | null = null;
  readonly ttlMs: number;
  #enabled: boolean;
  #closed = false;
  readonly #tables = new Map<string, CacheTable<unknown>>();
  readonly #url: string | null;
  readonly #onError: ((message: string) => void) | undefined;
  #client: pg.Client | null = null;
  #retry: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #backoffMs = 100;
  #connected: Promise<void> | null = null;
  #resolveConnected: (() => void) | null = null;

  private constructor(url: string | null, opts: ChangeFeedOptions) {
    this.ttlMs = opts.ttlMs ?? ttlFromEnv();
    this.#url = url;
    this.#onError = opts.onError;
    this.#enabled = url === null && this.ttlMs > 0;
  }

  /** One process owns the database (SQLite): writes invalidate in-process, no listener. */
  static local(opts: ChangeFeedOptions = {}): ChangeFeed {
    return new ChangeFeed(null, opts);
  }

  /**
   * PostgreSQL: LISTEN on a dedicated connection (reconnecting); caching is on only while it listens.
   * The connection is opened by `ready()` (startServer calls it): other processes (CLI commands,
   * in-process workflow runs) never open it and never cache.
   */
  static listen(connectionString: string, opts: ChangeFeedOptions = {}): ChangeFeed {
    return new ChangeFeed(connectionString, opts);
  }

  #start(): void {
    if (this.#connected || this.#url === null || this.ttlMs <= 0 || this.#closed) return;
    this.#connected = new Promise((r) => (this.#resolveConnected = r));
    this.#connect();
  }

  /** Whether caches may serve and store entries right now. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Starts the listener and resolves once it is up (tests, start-up); at once for a local feed. */
  ready(): Promise<void> {
    this.#start();
    return this.#connected ?? Promise.resolve();
  }

  /** The named table (created on first use). */
  table<V>(name: string, max = 10_000): CacheTable<V> {
    let t = this.#tables.get(name);
    if (!t) {
      t = new CacheTable<unknown>(this, max);
      this.#tables.set(name, t);
    }
    return t as CacheTable<V>;
  }

  /** Drop every cached entry (the id is informational: any change clears all, changes are rare). */
  invalidate(_id?: string): void {
    this.epoch++;
    for (const t of this.#tables.values()) t.clear();
    if (this.#shared) Atomics.store(this.#shared, 0, this.epoch | 0);
  }

  /**
   * `epoch | 0` in a SharedArrayBuffer, updated by every invalidation: a workflow worker thread that
   * keeps a copy of an entry checks it with `Atomics.load` (see host/workflow-pool.ts).
   */
  sharedEpoch(): Int32Array {
    if (!this.#shared) {
      this.#shared = new Int32Array(new SharedArrayBuffer(4));
      Atomics.store(this.#shared, 0, this.epoch | 0);
    }
    return this.#shared;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#enabled = false;
    this.invalidate();
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const c = this.#client;
    this.#client = null;
    if (c) await c.end().catch(() => undefined);
  }

  #connect(): void {
    if (this.#closed || this.#url === null) return;
    // pg is loaded here, on first connect: processes on SQLite never load it.
    const { Client } = createRequire(import.meta.url)("pg") as typeof pg;
    const client = new Client({ connectionString: this.#url, keepAlive: true, application_name: "bifrost-changes" });
    this.#client = client;
    client.on("notification", (n) => {
      if (n.channel === CHANGES_CHANNEL) this.invalidate(n.payload);
    });
    client.on("error", (err) => this.#dropped(client, err.message));
    client.on("end", () => this.#dropped(client, "connection ended"));
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}`))
      .then(() => {
        if (client !== this.#client || this.#closed) return;
        // Anything cached before this point may have missed a notification.
        this.invalidate();
        this.#enabled = this.ttlMs > 0;
        this.#backoffMs = 100;
        this.#heartbeat = setInterval(() => this.#beat(client), HEARTBEAT_MS);
        this.#heartbeat.unref();
        this.#resolveConnected?.();
      })
      .catch((err: unknown) => this.#dropped(client, err instanceof Error ? err.message : "connect failed"));
  }

  /** A query on the LISTEN connection: a half-open TCP connection is noticed within seconds. */
  #beat(client: pg.Client): void {
    let done = false;
    const timer = setTimeout(() => !done && this.#dropped(client, "heartbeat timed out"), HEARTBEAT_TIMEOUT_MS);
    timer.unref();
    client.query("SELECT 1").then(
      () => {
        done = true;
        clearTimeout(timer);
      },
      (err: unknown) => {
        done = true;
        clearTimeout(timer);
        this.#dropped(client, err instanceof Error ? err.message : "heartbeat failed");
      },
    );
  }

  #dropped(client: pg.Client, why: string): void {
    if (client !== this.#client) return;
    this.#client = null;
    this.#enabled = false;
    this.invalidate();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    client.removeAllListeners("notification");
    client.on("error", () => undefined);
    client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#onError?.(`cache invalidation listener: ${why}; caching is off until it reconnects`);
    this.#retry = setTimeout(() => this.#connect(), this.#backoffMs);
    this.#retry.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
  }
}

function ttlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BIFROST_CACHE_TTL_MS;
  if (raw === undefined || raw === "") return DEFAULT_CACHE_TTL_MS;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 60_000) : DEFAULT_CACHE_TTL_MS;
}
