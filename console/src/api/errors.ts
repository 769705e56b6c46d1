/** The API's error envelope as a class the console can switch on (pure: no DOM, unit-tested). */

interface Envelope {
  statusCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The field this error is about: the config key for value errors, else details.path. */
  get field(): string | null {
    if (typeof this.details.key === "string") return this.details.key;
    if (typeof this.details.path === "string") return this.details.path;
    return null;
  }
}

/** An error response → ApiError: the envelope's code, message and details, else `HTTP_<status>`. */
export function errorFromResponse(status: number, body: unknown): ApiError {
  const env = (typeof body === "object" && body !== null ? body : {}) as Partial<Envelope>;
  const details = typeof env.details === "object" && env.details !== null ? env.details : {};
  return new ApiError(status, typeof env.code === "string" ? env.code : `HTTP_${status}`, typeof env.message === "string" ? env.message : `Request failed (${status}).`, details);
}

/** Anything thrown → ApiError (client-side failures get code CLIENT). */
export function toApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CLIENT", e instanceof Error ? e.message : String(e));
}

/** Does this server error belong to the field named by one of `fields` (exact, or a sub-path of it)? */
export function errorMatches(err: ApiError | null, ...fields: string[]): boolean {
  const f = err?.field;
  if (!f) return false;
  return fields.some((x) => f === x || f.startsWith(x + ".") || f.startsWith(x + "["));
}
