import { BifrostError, type ErrorDetails } from "../core/errors.js";

/** The storage configuration is unusable (for example DATABASE_URL is not a postgres:// URL). Nothing was opened. */
export class StorageConfigError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_STORAGE_CONFIG", 500, message, details);
  }
}
