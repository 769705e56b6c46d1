import { BifrostError, type ErrorDetails } from "../core/errors.js";

/** The storage configuration is unusable (for example DATABASE_URL is not a postgres:// URL). Nothing was opened. */
export class StorageConfigError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_STORAGE_CONFIG", 500, message, details);
  }
}

/**
 * The database cannot be reached or refused the connection (nothing listening, unknown role or
 * database, wrong password, connections not accepted, connection dropped). The message names what to
 * fix and shows DATABASE_URL without its password. Nothing was changed.
 */
export class DatabaseUnavailableError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_DATABASE_UNAVAILABLE", 503, message, details);
  }
}

/**
 * A write did not get its turn: SQLite stayed locked by another connection for the whole busy
 * timeout, or PostgreSQL aborted the transaction (deadlock, serialization failure) on every bounded
 * retry. Nothing was changed; retrying later is safe.
 */
export class DatabaseBusyError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_DATABASE_BUSY", 503, message, details);
  }
}
