/**
 * Generator errors: classes with stable codes (listed in docs/errors.md). Nothing is written when one is thrown.
 */
import { BifrostError, type ErrorDetails } from "../core/errors.js";

/** The spec URL is refused by the fetch policy (scheme, address, redirect target). */
export class SpecUrlRefusedError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_URL_REFUSED", 422, message, details);
  }
}

/** The spec (or a referenced document) could not be downloaded or read: network, timeout, HTTP status, missing file. */
export class SpecFetchError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_FETCH_FAILED", 502, message, details);
  }
}

/** The spec is larger than the size cap. */
export class SpecTooLargeError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_SPEC_TOO_LARGE", 413, message, details);
  }
}

/** The spec is not valid JSON/YAML; details carry line and column. */
export class SpecParseError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_SPEC_PARSE", 422, message, details);
  }
}

/** The document is not a usable OpenAPI 2.0/3.0/3.1 document; details carry the JSON path. */
export class SpecInvalidError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_SPEC_INVALID", 422, message, details);
  }
}

/** The module name is not a valid module file name (path separators, `..`, bad characters). */
export class ModuleNameError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_MODULE_NAME", 422, message, details);
  }
}

/** `bifrost sdk check`: the committed module differs from a fresh generation (or is missing). */
export class SdkOutOfDateError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_OUT_OF_DATE", 409, message, details);
  }
}

/** The `--auth` choice is not one of the accepted forms (listed in the message). */
export class AuthChoiceError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_GENERATOR_AUTH_INVALID", 422, message, details);
  }
}
