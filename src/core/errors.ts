/**
 * Errors as classes with stable codes. Every code is listed in docs/errors.md
 * (a test checks the two stay in sync). Messages never contain secret values.
 */

export type ErrorDetails = Record<string, unknown>;

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
    super("BIFROST_VALIDATION", 422, message, details);
  }
}

/** A value is larger than the configured limit. Nothing was changed. */
export class ValueTooLargeError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_VALUE_TOO_LARGE", 413, message, details);
  }
}

export class NotFoundError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_NOT_FOUND", 404, message, details);
  }
}

/** A uniqueness rule or a dependent object stops the change. */
export class ConflictError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_CONFLICT", 409, message, details);
  }
}

/** A schema change would delete or invalidate stored values; retry with force. */
export class SchemaChangeError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_SCHEMA_CHANGE_REFUSED", 409, message, details);
  }
}

/** Required config keys are missing after merging defaults and overrides: a state to fix, not a server fault. */
export class ConfigError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_CONFIG_MISSING_REQUIRED", 409, message, details);
  }
}

/** A stored ciphertext failed to decrypt: tampering, a swapped row, or the wrong key. Alert-worthy. */
export class DecryptError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_DECRYPT_FAILED", 500, message, details);
  }
}

/** The keyring is missing, malformed, or does not match the database. */
export class KeyringError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_KEYRING_INVALID", 500, message, details);
  }
}

export class UnauthenticatedError extends BifrostError {
  constructor(message = "Missing or invalid API key. Send 'Authorization: Bearer <key>' (create one with `bifrost keys create`).") {
    super("BIFROST_UNAUTHENTICATED", 401, message);
  }
}

export class ForbiddenError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_FORBIDDEN", 403, message, details);
  }
}

/** A migration cannot run on the stored data (for example entity ids that collide under a new rule). Nothing was changed. */
export class MigrationError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_MIGRATION_REFUSED", 500, message, details);
  }
}

/** A bifrost.yaml / JSON file could not be parsed or validated; details name the path and line. */
export class ApplyFileError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_APPLY_FILE", 422, message, details);
  }
}

/** A workflow threw, could not be loaded, or its name is unknown. */
export class WorkflowError extends BifrostError {
  constructor(code: "BIFROST_WORKFLOW_FAILED" | "BIFROST_WORKFLOW_LOAD", message: string, details?: ErrorDetails) {
    super(code, 500, message, details);
  }
}

/** `integrations.require(name)` found no integration of that name. */
export class IntegrationNotFoundError extends BifrostError {
  constructor(name: string) {
    super("BIFROST_INTEGRATION_NOT_FOUND", 404, `Integration "${name}" does not exist. Create it with \`bifrost integrations create ${name}\` or \`bifrost apply\`.`, { integration: name });
  }
}

/** SDK call made outside a workflow execution. */
export class NoExecutionContextError extends BifrostError {
  constructor(what: string) {
    super("BIFROST_NO_CONTEXT", 500, `${what} was called outside a workflow execution. Run the workflow with \`bifrost run FILE --org SLUG\` or POST /api/workflows/{name}/run.`);
  }
}

export function isBifrostError(err: unknown): err is BifrostError {
  return err instanceof BifrostError;
}
