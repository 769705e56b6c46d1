/**
 * The errors of the client runtime's requests (generated calls and `integration.fetch()`), part of the
 * SDK core so a generated module's bundle does not carry them; `bifrost/client` re-exports them.
 * @module
 */
import { BifrostError, type ErrorDetails } from "../core/errors.js";

export type ClientErrorCode =
  | "BIFROST_CLIENT_HTTP"
  | "BIFROST_CLIENT_TIMEOUT"
  | "BIFROST_CLIENT_NETWORK"
  | "BIFROST_CLIENT_INVALID_REQUEST"
  | "BIFROST_CLIENT_CREDENTIALS_MISSING"
  | "BIFROST_CLIENT_NO_BASE_URL"
  | "BIFROST_CLIENT_UNTRUSTED_ORIGIN";

/** Every error a generated client throws (besides the caller's own abort reason). */
export class ClientError extends BifrostError {
  declare readonly code: ClientErrorCode;
}

/**
 * The API answered with a non-2xx status (after retries / the 401 refresh). `S` / `B`: a status and the
 * body type declared for it; a generated operation's `…Error` type is a union of these, narrowed by
 * `err.status` (see `isApiError`).
 */
export class ApiError<S extends number = number, B = unknown> extends ClientError {
  /** The upstream HTTP status. */
  declare readonly status: S;
  /** Parsed JSON body, else the text (truncated to 4 KiB); secrets of the execution redacted. */
  declare readonly body: B;
  /** x-request-id / request-id / x-amzn-requestid / … when the API sent one. */
  declare readonly requestId: string | null;
  declare readonly operationId: string;
  declare readonly method: string;
  /** Request URL with credential query parameters removed. */
  declare readonly url: string;
  constructor(message: string, init: { status: number; body: unknown; requestId: string | null; operationId: string; method: string; url: string }) {
    const { body: _body, ...details } = init;
    super("BIFROST_CLIENT_HTTP", 502, message, details);
    Object.assign(this, init);
  }
}

/** `new ClientError("BIFROST_CLIENT_<code>", …)`: short call sites keep a one-call bundle small. */
export const clientError = (code: ClientErrorCode extends `BIFROST_CLIENT_${infer C}` ? C : never, status: number, message: string, details: ErrorDetails): ClientError =>
  new ClientError(`BIFROST_CLIENT_${code}`, status, message, details);
