import { BifrostError, type ErrorDetails } from "../core/errors.js";

export type ClientErrorCode =
  | "BIFROST_CLIENT_HTTP"
  | "BIFROST_CLIENT_TIMEOUT"
  | "BIFROST_CLIENT_NETWORK"
  | "BIFROST_CLIENT_INVALID_REQUEST"
  | "BIFROST_CLIENT_CREDENTIALS_MISSING"
  | "BIFROST_CLIENT_NO_BASE_URL";

/** Every error a generated client throws (besides the caller's own abort reason). */
export class ClientError extends BifrostError {
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, statusCode: number, message: string, details?: ErrorDetails) {
    super(code, statusCode, message, details);
  }
}

/** The API answered with a non-2xx status (after retries / the 401 refresh). */
export class ApiError extends ClientError {
  /** The upstream HTTP status. */
  readonly status: number;
  /** Parsed JSON body, else the text (truncated to 4 KiB); secrets of the execution redacted. */
  readonly body: unknown;
  /** x-request-id / request-id / x-amzn-requestid / … when the API sent one. */
  readonly requestId: string | null;
  readonly operationId: string;
  readonly method: string;
  /** Request URL with credential query parameters removed. */
  readonly url: string;
  constructor(message: string, init: { status: number; body: unknown; requestId: string | null; operationId: string; method: string; url: string }) {
    super("BIFROST_CLIENT_HTTP", 502, message, { status: init.status, operationId: init.operationId, method: init.method, url: init.url, requestId: init.requestId });
    this.status = init.status;
    this.body = init.body;
    this.requestId = init.requestId;
    this.operationId = init.operationId;
    this.method = init.method;
    this.url = init.url;
  }
}
