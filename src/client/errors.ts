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

/** The API answered with a non-2xx status (after retries / the 401 refresh). */
export class ApiError extends ClientError {
  /** The upstream HTTP status. */
  declare readonly status: number;
  /** Parsed JSON body, else the text (truncated to 4 KiB); secrets of the execution redacted. */
  declare readonly body: unknown;
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
