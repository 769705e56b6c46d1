import { fetch as undiciFetch } from "undici";
import type { ErrorDetails } from "../core/errors.js";
import { guardedAgent, refusedCause } from "../net/guarded-agent.js";
import { checkOutboundUrl, connectRefusal, OutboundRefusedError } from "../net/outbound-policy.js";
import { readAtMost } from "../net/read-body.js";
import { OAuthProtocolError, OAuthTransientError, OAuthUrlRefusedError } from "./errors.js";
import { failedBeforeSending } from "./unsent.js";

export { refusedAddress } from "../net/guarded-agent.js";

export interface FetchGuardOptions {
  /** BIFROST_ALLOW_HTTP_LOOPBACK=1: plain http is allowed, but only to loopback addresses. */
  allowHttpLoopback: boolean;
  /** Abort after this many ms (default 10 000). */
  timeoutMs: number;
  /** Refuse bodies larger than this (default 1 MiB). */
  maxResponseBytes: number;
  /** The integration has `private_network: true`: private ranges are allowed (never link-local or metadata). */
  privateNetwork?: boolean;
}

/** The outbound policy's refusal, with the OAuth code (BIFROST_OAUTH_URL_REFUSED), the same message and any extra details. */
function asOAuth(err: OutboundRefusedError, extra: ErrorDetails = {}): OAuthUrlRefusedError {
  return new OAuthUrlRefusedError(err.message, { ...err.details, ...extra });
}

/**
 * Check a URL against the outbound policy without fetching it. `subject` names the URL in the message
 * (default "OAuth endpoint"); `extra` is added to the refusal's details.
 */
export function checkUrlAllowed(
  raw: string,
  opts: Pick<FetchGuardOptions, "allowHttpLoopback" | "privateNetwork">,
  subject = "OAuth endpoint",
  extra: ErrorDetails = {},
): URL {
  try {
    return checkOutboundUrl(raw, { allowHttpLoopback: opts.allowHttpLoopback, privateNetwork: opts.privateNetwork ?? false, subject });
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw asOAuth(err, extra);
    throw err;
  }
}

async function readCapped(res: Response, max: number, origin: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > max) throw new OAuthProtocolError(`The response from ${origin} is larger than ${max} bytes; refused.`, { origin });
  const { bytes, capped } = await readAtMost(res, max);
  if (capped) throw new OAuthProtocolError(`The response from ${origin} is larger than ${max} bytes; refused.`, { origin });
  return bytes;
}

/** A buffered response: body already read (size-capped), so later steps can inspect and rewrite it. */
export interface BufferedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  url: string;
}

/**
 * The one way OAuth code talks to the network: scheme/host policy, no redirects, a timeout
 * covering connect + body, and a size cap. Errors are our own classes and never quote headers
 * or bodies.
 */
export async function guardedRequest(url: string, init: RequestInit, opts: FetchGuardOptions): Promise<BufferedResponse> {
  const u = checkUrlAllowed(url, opts);
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  let res: Response;
  try {
    const dispatcher = guardedAgent(u.protocol, opts.allowHttpLoopback, opts.privateNetwork ?? false);
    res = (await undiciFetch(u, { ...(init as Record<string, unknown>), redirect: "manual", signal, dispatcher } as never)) as unknown as Response;
  } catch (err) {
    const refused = refusedCause(err);
    if (refused) throw asOAuth(connectRefusal(u, refused.reason, { ...opts, subject: "OAuth endpoint" }));
    if (timeout.aborted) throw new OAuthTransientError(`No answer from ${u.origin} within ${opts.timeoutMs} ms (timeout).`, { origin: u.origin, reason: "timeout" });
    // "unreachable": the request was never sent (refused, DNS, unroutable, TLS); "network": the outcome is unknown.
    throw new OAuthTransientError(`Could not reach ${u.origin} (network error).`, { origin: u.origin, reason: failedBeforeSending(err) ? "unreachable" : "network" });
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new OAuthUrlRefusedError(`${u.origin} answered with a redirect (${res.status}); OAuth requests never follow redirects.`, { origin: u.origin, status: res.status });
  }
  try {
    const body = await readCapped(res, opts.maxResponseBytes, u.origin);
    return { status: res.status, headers: res.headers, body, url: u.toString() };
  } catch (err) {
    if (timeout.aborted) throw new OAuthTransientError(`No complete answer from ${u.origin} within ${opts.timeoutMs} ms (timeout).`, { origin: u.origin, reason: "timeout" });
    if (err instanceof OAuthProtocolError) throw err;
    throw new OAuthTransientError(`The connection to ${u.origin} failed while reading the response.`, { origin: u.origin, reason: "network" });
  }
}

export function toResponse(b: BufferedResponse, body: ConstructorParameters<typeof Response>[0] = b.body.byteLength ? Buffer.from(b.body) : null, headers: Headers = b.headers): Response {
  const noBody = b.status === 204 || b.status === 205 || b.status === 304;
  const res = new Response(noBody ? null : body, { status: b.status, headers });
  // oauth4webapi reads response.url in some checks; a constructed Response has "", which is fine.
  return res;
}
