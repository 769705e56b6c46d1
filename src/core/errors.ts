/**
 * Errors as classes with stable codes. Every code is listed in docs/errors.md
 * (a test checks the two stay in sync). Messages never contain secret values.
 */

export type ErrorDetails = Record<string, unknown>;

/**
 * Every stable error code. Throw sites use these names (or the class that carries one); the
 * codes never change once published.
 */
export const ErrorCode = {
  VALIDATION: "BIFROST_VALIDATION",
  BAD_REQUEST: "BIFROST_BAD_REQUEST",
  UNSUPPORTED_MEDIA_TYPE: "BIFROST_UNSUPPORTED_MEDIA_TYPE",
  VALUE_TOO_LARGE: "BIFROST_VALUE_TOO_LARGE",
  NOT_FOUND: "BIFROST_NOT_FOUND",
  CONFLICT: "BIFROST_CONFLICT",
  SCHEMA_CHANGE_REFUSED: "BIFROST_SCHEMA_CHANGE_REFUSED",
  CONFIG_MISSING_REQUIRED: "BIFROST_CONFIG_MISSING_REQUIRED",
  DECRYPT_FAILED: "BIFROST_DECRYPT_FAILED",
  KEYRING_INVALID: "BIFROST_KEYRING_INVALID",
  KEYRING_KEY_MISSING: "BIFROST_KEYRING_KEY_MISSING",
  KEYRING_KEY_IN_USE: "BIFROST_KEYRING_KEY_IN_USE",
  UNAUTHENTICATED: "BIFROST_UNAUTHENTICATED",
  FORBIDDEN: "BIFROST_FORBIDDEN",
  APPLY_FILE: "BIFROST_APPLY_FILE",
  WORKFLOW_LOAD: "BIFROST_WORKFLOW_LOAD",
  WORKFLOW_FAILED: "BIFROST_WORKFLOW_FAILED",
  WORKFLOW_TIMEOUT: "BIFROST_WORKFLOW_TIMEOUT",
  WORKFLOW_CRASHED: "BIFROST_WORKFLOW_CRASHED",
  BUSY: "BIFROST_BUSY",
  INTEGRATION_NOT_FOUND: "BIFROST_INTEGRATION_NOT_FOUND",
  NO_CONTEXT: "BIFROST_NO_CONTEXT",
  REMOTE_UNAVAILABLE: "BIFROST_REMOTE_UNAVAILABLE",
  USAGE: "BIFROST_USAGE",
  INTERNAL: "BIFROST_INTERNAL",
  OAUTH_CONFIG_INVALID: "BIFROST_OAUTH_CONFIG_INVALID",
  OAUTH_NO_PROVIDER: "BIFROST_OAUTH_NO_PROVIDER",
  OAUTH_URL_REFUSED: "BIFROST_OAUTH_URL_REFUSED",
  OAUTH_STATE_INVALID: "BIFROST_OAUTH_STATE_INVALID",
  OAUTH_ISSUER_MISMATCH: "BIFROST_OAUTH_ISSUER_MISMATCH",
  OAUTH_AUTHORIZATION_DENIED: "BIFROST_OAUTH_AUTHORIZATION_DENIED",
  OAUTH_NEEDS_REAUTH: "BIFROST_OAUTH_NEEDS_REAUTH",
  OAUTH_CLIENT_REJECTED: "BIFROST_OAUTH_CLIENT_REJECTED",
  OAUTH_TRANSIENT: "BIFROST_OAUTH_TRANSIENT",
  OAUTH_PROTOCOL: "BIFROST_OAUTH_PROTOCOL",
  OAUTH_NOT_CONNECTED: "BIFROST_OAUTH_NOT_CONNECTED",
  CONNECT_LINK_NOT_FOUND: "BIFROST_CONNECT_LINK_NOT_FOUND",
  CONNECT_LINK_GONE: "BIFROST_CONNECT_LINK_GONE",
  CONNECT_LINK_EXPIRES_INVALID: "BIFROST_CONNECT_LINK_EXPIRES_INVALID",
  CLIENT_HTTP: "BIFROST_CLIENT_HTTP",
  CLIENT_TIMEOUT: "BIFROST_CLIENT_TIMEOUT",
  CLIENT_NETWORK: "BIFROST_CLIENT_NETWORK",
  CLIENT_INVALID_REQUEST: "BIFROST_CLIENT_INVALID_REQUEST",
  CLIENT_CREDENTIALS_MISSING: "BIFROST_CLIENT_CREDENTIALS_MISSING",
  CLIENT_NO_BASE_URL: "BIFROST_CLIENT_NO_BASE_URL",
  DEP_OAUTH_GET: "BIFROST_DEP_OAUTH_GET",
  GENERATOR_URL_REFUSED: "BIFROST_GENERATOR_URL_REFUSED",
  GENERATOR_FETCH_FAILED: "BIFROST_GENERATOR_FETCH_FAILED",
  GENERATOR_SPEC_TOO_LARGE: "BIFROST_GENERATOR_SPEC_TOO_LARGE",
  GENERATOR_SPEC_PARSE: "BIFROST_GENERATOR_SPEC_PARSE",
  GENERATOR_SPEC_INVALID: "BIFROST_GENERATOR_SPEC_INVALID",
  GENERATOR_MODULE_NAME: "BIFROST_GENERATOR_MODULE_NAME",
  GENERATOR_OUT_OF_DATE: "BIFROST_GENERATOR_OUT_OF_DATE",
  TYPES_OUT_OF_DATE: "BIFROST_TYPES_OUT_OF_DATE",
  GENERATOR_AUTH_INVALID: "BIFROST_GENERATOR_AUTH_INVALID",
  CLIENT_UNTRUSTED_ORIGIN: "BIFROST_CLIENT_UNTRUSTED_ORIGIN",
  OUTBOUND_REFUSED: "BIFROST_OUTBOUND_REFUSED",
  MCP_ORIGIN_REFUSED: "BIFROST_MCP_ORIGIN_REFUSED",
  METHOD_NOT_ALLOWED: "BIFROST_METHOD_NOT_ALLOWED",
  MIGRATION_REFUSED: "BIFROST_MIGRATION_REFUSED",
  STORAGE_CONFIG: "BIFROST_STORAGE_CONFIG",
  PASSPHRASE_INVALID: "BIFROST_PASSPHRASE_INVALID",
  IMPORT_FILE_INVALID: "BIFROST_IMPORT_FILE_INVALID",
  IMPORT_PASSPHRASE_WRONG: "BIFROST_IMPORT_PASSPHRASE_WRONG",
  IMPORT_FILE_TAMPERED: "BIFROST_IMPORT_FILE_TAMPERED",
  IMPORT_TARGET_NOT_EMPTY: "BIFROST_IMPORT_TARGET_NOT_EMPTY",
  DEMO_UNAVAILABLE: "BIFROST_DEMO_UNAVAILABLE",
  DEMO_TARGET_NOT_EMPTY: "BIFROST_DEMO_TARGET_NOT_EMPTY",
  DATABASE_UNAVAILABLE: "BIFROST_DATABASE_UNAVAILABLE",
  DATABASE_BUSY: "BIFROST_DATABASE_BUSY",
  PORT_IN_USE: "BIFROST_PORT_IN_USE",
  PROVIDER_UNKNOWN: "BIFROST_PROVIDER_UNKNOWN",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status each code is answered with (null: never an HTTP response — a CLI usage error or a warning code). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number | null>> = {
  BIFROST_VALIDATION: 422,
  BIFROST_BAD_REQUEST: 400,
  BIFROST_UNSUPPORTED_MEDIA_TYPE: 415,
  BIFROST_VALUE_TOO_LARGE: 413,
  BIFROST_NOT_FOUND: 404,
  BIFROST_CONFLICT: 409,
  BIFROST_SCHEMA_CHANGE_REFUSED: 409,
  BIFROST_CONFIG_MISSING_REQUIRED: 409,
  BIFROST_DECRYPT_FAILED: 500,
  BIFROST_KEYRING_INVALID: 500,
  BIFROST_KEYRING_KEY_MISSING: 500,
  BIFROST_KEYRING_KEY_IN_USE: 409,
  BIFROST_UNAUTHENTICATED: 401,
  BIFROST_FORBIDDEN: 403,
  BIFROST_APPLY_FILE: 422,
  BIFROST_WORKFLOW_LOAD: 500,
  BIFROST_WORKFLOW_FAILED: 500,
  BIFROST_WORKFLOW_TIMEOUT: 504,
  BIFROST_WORKFLOW_CRASHED: 500,
  BIFROST_BUSY: 429,
  BIFROST_INTEGRATION_NOT_FOUND: 404,
  BIFROST_NO_CONTEXT: 500,
  BIFROST_REMOTE_UNAVAILABLE: 503,
  BIFROST_USAGE: null,
  BIFROST_INTERNAL: 500,
  BIFROST_OAUTH_CONFIG_INVALID: 422,
  BIFROST_OAUTH_NO_PROVIDER: 404,
  BIFROST_OAUTH_URL_REFUSED: 422,
  BIFROST_OAUTH_STATE_INVALID: 400,
  BIFROST_OAUTH_ISSUER_MISMATCH: 400,
  BIFROST_OAUTH_AUTHORIZATION_DENIED: 400,
  BIFROST_OAUTH_NEEDS_REAUTH: 409,
  BIFROST_OAUTH_CLIENT_REJECTED: 502,
  BIFROST_OAUTH_TRANSIENT: 503,
  BIFROST_OAUTH_PROTOCOL: 502,
  BIFROST_OAUTH_NOT_CONNECTED: 404,
  BIFROST_CONNECT_LINK_NOT_FOUND: 404,
  BIFROST_CONNECT_LINK_GONE: 410,
  BIFROST_CONNECT_LINK_EXPIRES_INVALID: 422,
  BIFROST_CLIENT_HTTP: 502,
  BIFROST_CLIENT_TIMEOUT: 504,
  BIFROST_CLIENT_NETWORK: 502,
  BIFROST_CLIENT_INVALID_REQUEST: 422,
  BIFROST_CLIENT_CREDENTIALS_MISSING: 409,
  BIFROST_CLIENT_NO_BASE_URL: 409,
  BIFROST_DEP_OAUTH_GET: null,
  BIFROST_GENERATOR_URL_REFUSED: 422,
  BIFROST_GENERATOR_FETCH_FAILED: 502,
  BIFROST_GENERATOR_SPEC_TOO_LARGE: 413,
  BIFROST_GENERATOR_SPEC_PARSE: 422,
  BIFROST_GENERATOR_SPEC_INVALID: 422,
  BIFROST_GENERATOR_MODULE_NAME: 422,
  BIFROST_GENERATOR_OUT_OF_DATE: 409,
  BIFROST_TYPES_OUT_OF_DATE: 409,
  BIFROST_GENERATOR_AUTH_INVALID: 422,
  BIFROST_CLIENT_UNTRUSTED_ORIGIN: 403,
  BIFROST_OUTBOUND_REFUSED: 422,
  BIFROST_MCP_ORIGIN_REFUSED: 403,
  BIFROST_METHOD_NOT_ALLOWED: 405,
  BIFROST_MIGRATION_REFUSED: 500,
  BIFROST_STORAGE_CONFIG: 500,
  BIFROST_PASSPHRASE_INVALID: 422,
  BIFROST_IMPORT_FILE_INVALID: 422,
  BIFROST_IMPORT_PASSPHRASE_WRONG: 422,
  BIFROST_IMPORT_FILE_TAMPERED: 422,
  BIFROST_IMPORT_TARGET_NOT_EMPTY: 409,
  BIFROST_DEMO_UNAVAILABLE: null,
  BIFROST_DEMO_TARGET_NOT_EMPTY: null,
  BIFROST_DATABASE_UNAVAILABLE: 503,
  BIFROST_DATABASE_BUSY: 503,
  BIFROST_PORT_IN_USE: null,
  BIFROST_PROVIDER_UNKNOWN: 404,
};

export class BifrostError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, statusCode: number, message: string, details?: ErrorDetails) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
  }

  toJSON(): { statusCode: number; code: string; message: string; details?: ErrorDetails } {
    return {
      statusCode: this.statusCode,
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** Bad input: wrong type, unknown key, invalid name. Nothing was changed. */
export class ValidationError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.VALIDATION, 422, message, details);
  }
}

/** A value is larger than the configured limit. Nothing was changed. */
export class ValueTooLargeError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.VALUE_TOO_LARGE, 413, message, details);
  }
}

export class NotFoundError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.NOT_FOUND, 404, message, details);
  }
}

/** A uniqueness rule or a dependent object stops the change. */
export class ConflictError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.CONFLICT, 409, message, details);
  }
}

/** A schema change would delete or invalidate stored values; retry with force. */
export class SchemaChangeError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.SCHEMA_CHANGE_REFUSED, 409, message, details);
  }
}

/** Required config keys are missing after merging defaults and overrides: a state to fix, not a server fault. */
export class ConfigError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.CONFIG_MISSING_REQUIRED, 409, message, details);
  }
}

/** A stored ciphertext failed to decrypt: tampering, a swapped row, or the wrong key. Alert-worthy. */
export class DecryptError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.DECRYPT_FAILED, 500, message, details);
  }
}

/** The keyring is missing, malformed, or does not match the database. */
export class KeyringError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.KEYRING_INVALID, 500, message, details);
  }
}

/** Stored values use a key id the keyring lacks: the process refuses to start (details: kid → count). */
export class KeyringKeyMissingError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.KEYRING_KEY_MISSING, 500, message, details);
  }
}

/** `bifrost keyring retire` refused: the key is the active one, or stored values still use it. Nothing was changed. */
export class KeyringKeyInUseError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.KEYRING_KEY_IN_USE, 409, message, details);
  }
}

export class UnauthenticatedError extends BifrostError {
  constructor(message = "Missing or invalid API key. Send 'Authorization: Bearer <key>' (create one with `bifrost keys create`).") {
    super(ErrorCode.UNAUTHENTICATED, 401, message);
  }
}

export class ForbiddenError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.FORBIDDEN, 403, message, details);
  }
}

/** A migration cannot run on the stored data (for example entity ids that collide under a new rule). Nothing was changed. */
export class MigrationError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.MIGRATION_REFUSED, 500, message, details);
  }
}

/** The passphrase of an export with secrets is missing (variable unset or empty) or too short. Nothing was written. */
export class PassphraseError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.PASSPHRASE_INVALID, 422, message, details);
  }
}

/** `bifrost import`: the file is not an export with secrets, or its content does not fit this version. Nothing was imported. */
export class ImportFileError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.IMPORT_FILE_INVALID, 422, message, details);
  }
}

/** `bifrost import`: the passphrase does not open the file (or its key-derivation parameters were changed). Nothing was imported. */
export class ImportPassphraseError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.IMPORT_PASSPHRASE_WRONG, 422, message, details);
  }
}

/** `bifrost import`: the file failed authentication (modified or truncated after export). Nothing was imported. */
export class ImportTamperedError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.IMPORT_FILE_TAMPERED, 422, message, details);
  }
}

/** `bifrost import` only fills an empty instance (no organizations, no integrations). Nothing was imported. */
export class ImportTargetNotEmptyError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.IMPORT_TARGET_NOT_EMPTY, 409, message, details);
  }
}

/** `bifrost dev --demo` cannot run here: the development dependencies (oidc-provider) are not installed. CLI only. */
export class DemoUnavailableError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.DEMO_UNAVAILABLE, ERROR_STATUS[ErrorCode.DEMO_UNAVAILABLE] ?? 500, message, details);
  }
}

/** `bifrost dev --demo` seeds only an empty database; this one already holds organizations or integrations. CLI only. */
export class DemoTargetNotEmptyError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.DEMO_TARGET_NOT_EMPTY, ERROR_STATUS[ErrorCode.DEMO_TARGET_NOT_EMPTY] ?? 409, message, details);
  }
}

/** A bifrost.yaml / JSON file could not be parsed or validated; details name the path and line. */
export class ApplyFileError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.APPLY_FILE, 422, message, details);
  }
}

/** A workflow threw, could not be loaded, or its name is unknown. */
export class WorkflowError extends BifrostError {
  constructor(
    code: typeof ErrorCode.WORKFLOW_FAILED | typeof ErrorCode.WORKFLOW_LOAD | typeof ErrorCode.WORKFLOW_TIMEOUT | typeof ErrorCode.WORKFLOW_CRASHED,
    message: string,
    details?: ErrorDetails,
  ) {
    super(code, ERROR_STATUS[code] ?? 500, message, details);
  }
}

/** Every workflow slot and queue place is taken (429); `details.retryAfter` is the Retry-After in seconds. */
export class BusyError extends BifrostError {
  constructor(message: string, details: ErrorDetails & { retryAfter: number }) {
    super(ErrorCode.BUSY, 429, message, details);
  }
}

/** `integrations.require(name)` found no integration of that name. */
/** `provider: ID` (yaml) or `bifrost catalog show ID` names no catalog entry; details.suggestions lists close ids. */
export class ProviderUnknownError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.PROVIDER_UNKNOWN, 404, message, details);
  }
}

export class IntegrationNotFoundError extends BifrostError {
  constructor(name: string) {
    super(ErrorCode.INTEGRATION_NOT_FOUND, 404, `Integration "${name}" does not exist. Create it with \`bifrost integrations create ${name}\` or \`bifrost apply\`.`, { integration: name });
  }
}

/** SDK call made outside a workflow execution. */
export class NoExecutionContextError extends BifrostError {
  constructor(what: string) {
    super(ErrorCode.NO_CONTEXT, 500, `${what} was called outside a workflow execution. Run the workflow with \`bifrost run FILE --org SLUG\` or POST /api/workflows/{name}/run.`);
  }
}
