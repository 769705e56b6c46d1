/**
 * Connection and start-up errors of the database, translated into BIFROST_DATABASE_UNAVAILABLE with a
 * message that says what to fix: the host, port and database, and DATABASE_URL with its password
 * replaced by `***` (the password is never part of a message). Every other error passes unchanged.
 */
import { BifrostError } from "../core/errors.js";
import { DatabaseUnavailableError } from "./errors.js";
import { STORE_METHODS } from "./notifying.js";
import type { Store } from "./store.js";

/** Where a PostgreSQL URL points, and the URL as it may be shown. */
interface PgTarget {
  host: string;
  port: string;
  database: string;
  user: string;
  shown: string;
}

/** DATABASE_URL without its password (user info and a `password` query parameter). */
function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    if (u.searchParams.has("password")) u.searchParams.set("password", "***");
    return u.toString();
  } catch {
    return "(DATABASE_URL is not a valid URL)";
  }
}

function pgTarget(url: string): PgTarget {
  const u = new URL(url);
  return {
    host: u.hostname || "localhost",
    port: u.port || "5432",
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || decodeURIComponent(u.username) || "postgres",
    user: decodeURIComponent(u.username) || "(the operating-system user)",
    shown: redactDatabaseUrl(url),
  };
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: "nothing accepts connections there",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name could not be resolved right now",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  ECONNRESET: "the connection was reset",
  EPIPE: "the connection was closed",
};

/** The error's code, looking inside the AggregateError Node raises when it tried several addresses. */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown } | null;
  if (typeof e?.code === "string") return e.code;
  if (Array.isArray(e?.errors)) return codeOf(e.errors[0]);
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The PostgreSQL error as BIFROST_DATABASE_UNAVAILABLE, or null when it is not a connection problem. */
function pgUnavailable(err: unknown, url: string): DatabaseUnavailableError | null {
  const code = codeOf(err);
  const msg = messageOf(err);
  const t = pgTarget(url);
  const where = `PostgreSQL at ${t.host}:${t.port}`;
  const shownUrl = `DATABASE_URL=${t.shown}`;
  const details = { host: t.host, port: t.port, database: t.database, reason: "" };
  const fail = (reason: string, message: string) => new DatabaseUnavailableError(message, { ...details, reason });
  if (code !== undefined && code in NETWORK) {
    return fail(
      "unreachable",
      `Cannot connect to ${where} (database "${t.database}"): ${NETWORK[code]} (${code}). Start PostgreSQL, or fix the host and port in ${shownUrl}.`,
    );
  }
  switch (code) {
    case "28000":
      return fail(
        "role",
        `${where} refused user "${t.user}" for database "${t.database}": ${msg}. Fix the user in ${shownUrl}, or create the role on the server (CREATE ROLE … LOGIN) and allow it in pg_hba.conf.`,
      );
    case "28P01":
      return fail("password", `${where} rejected the password of user "${t.user}". Fix the password in ${shownUrl} (shown without it).`);
    case "3D000":
      return fail("database", `Database "${t.database}" does not exist on ${where}. Create it (createdb ${t.database}), or fix the database name in ${shownUrl}.`);
    case "53300":
      return fail("too_many_connections", `${where} has no free connection slots (database "${t.database}"): ${msg}. Raise max_connections or run fewer processes; ${shownUrl}.`);
    case "57P01":
    case "57P02":
    case "57P03":
      return fail("shutdown", `${where} (database "${t.database}") closed the connection or is not accepting connections yet: ${msg}. Check that PostgreSQL is running; ${shownUrl}.`);
    default:
      break;
  }
  if (code === "55000" && /not currently accepting connections/.test(msg)) {
    return fail("not_accepting", `Database "${t.database}" on ${where} does not accept connections: ${msg}. Allow connections again (ALTER DATABASE … ALLOW_CONNECTIONS true); ${shownUrl}.`);
  }
  if (code?.startsWith("08") || /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(msg)) {
    return fail("connection", `The connection to ${where} (database "${t.database}") failed or was closed: ${msg}. Check that PostgreSQL is running and reachable; ${shownUrl}.`);
  }
  return null;
}

/** The SQLite error as BIFROST_DATABASE_UNAVAILABLE (the file cannot be opened, read or written), or null. */
function sqliteUnavailable(err: unknown, file: string): DatabaseUnavailableError | null {
  const code = codeOf(err);
  if (code === undefined || !/^SQLITE_(CANTOPEN|IOERR|READONLY|NOTADB|CORRUPT)/.test(code)) return null;
  return new DatabaseUnavailableError(
    `The SQLite database ${file} cannot be used: ${messageOf(err)} (${code}). Check that the file and its folder exist and are readable and writable by this user (BIFROST_HOME), or restore the file.`,
    { file, reason: code },
  );
}

/** Where the store's database is, for messages. */
export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "sqlite"; file: string };

/** `err` translated when it is a connection or file problem of `target`; otherwise `err` itself. */
export function translateDatabaseError(err: unknown, target: DatabaseTarget): unknown {
  if (err instanceof BifrostError) return err;
  const translated = target.kind === "postgres" ? pgUnavailable(err, target.url) : sqliteUnavailable(err, target.file);
  return translated ?? err;
}

/**
 * Wrap a store so every Store method's connection errors become BIFROST_DATABASE_UNAVAILABLE. The
 * store a transaction callback receives is wrapped too, and whatever the callback itself throws (its
 * own errors, an OAuth call's) passes through untouched: only the database's errors are translated.
 */
export function withDatabaseErrors(store: Store, target: DatabaseTarget): Store {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== "function" || typeof prop !== "string" || !Object.hasOwn(STORE_METHODS, prop)) return v;
      let m = methods.get(prop);
      if (m === undefined) {
        const fn = v as (...args: unknown[]) => Promise<unknown>;
        const takesCallback = STORE_METHODS[prop as keyof typeof STORE_METHODS].kind === "transaction";
        m = async (...args: unknown[]) => {
          const fromCallback = new WeakSet<object>();
          if (takesCallback) {
            // Lock bodies get more than the store (the row read under the lock): pass it on.
            const cb = args[args.length - 1] as (tx: Store, ...more: unknown[]) => Promise<unknown>;
            args = [
              ...args.slice(0, -1),
              async (tx: Store, ...more: unknown[]) => {
                try {
                  return await cb(withDatabaseErrors(tx, target), ...more);
                } catch (err) {
                  if (typeof err === "object" && err !== null) fromCallback.add(err);
                  throw err;
                }
              },
            ];
          }
          try {
            return await fn.apply(t, args);
          } catch (err) {
            if (typeof err === "object" && err !== null && fromCallback.has(err)) throw err;
            throw translateDatabaseError(err, target);
          }
        };
        methods.set(prop, m);
      }
      return m;
    },
  });
}
