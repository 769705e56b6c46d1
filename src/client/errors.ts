import { ApiError } from "../runtime/client-errors.js";

export { ApiError, ClientError, clientError, type ClientErrorCode } from "../runtime/client-errors.js";

/** The `ApiError` union an operation function declares (plain `ApiError` when it declares none). */
export type ErrorsOf<F> = F extends (...args: never[]) => { readonly "~errors"?: infer E } ? (unknown extends E ? ApiError : Exclude<E, undefined>) : ApiError;

/**
 * Whether `e` is an `ApiError`, typed as the errors operation `op` declares: after
 * `if (isApiError(e, getTicket) && e.status === 404)`, `e.body` has the 404 response's type.
 * (`op` only carries the type; any ApiError passes.)
 */
export function isApiError<F extends (...args: never[]) => unknown>(e: unknown, _op?: F): e is ErrorsOf<F> {
  return e instanceof ApiError;
}
