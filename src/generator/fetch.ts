/**
 * Guarded download of specs and of `$ref`'d documents. Same policy as the OAuth guarded fetch
 * (the address rules and connect-time lookup live in src/net/guarded-agent.ts): https only (plain http to loopback
 * only with BIFROST_ALLOW_HTTP_LOOPBACK=1), every resolved address checked at connect time, redirects
 * followed (at most 5) only after the target passes the same checks, a size cap and a timeout.
 */
import { fetch as undiciFetch } from "undici";
import { guardedAgent, refusedCause } from "../net/guarded-agent.js";
import { checkOutboundUrl, connectRefusal, OutboundRefusedError } from "../net/outbound-policy.js";
import { SpecFetchError, SpecTooLargeError, SpecUrlRefusedError } from "./errors.js";

export interface SpecFetchOptions {
  allowHttpLoopback: boolean;
  /** Whole download (connect + body), ms. Default 60 000. */
  timeoutMs: number;
  /** Size cap in bytes. Default 40 MiB (env BIFROST_SPEC_MAX_BYTES). */
  maxBytes: number;
  /** Called as bytes arrive (total is null without content-length). */
  onBytes?: (received: number, total: number | null) => void;
}

const DEFAULT_SPEC_MAX_BYTES = 40 * 1024 * 1024;

export function defaultFetchOptions(env: NodeJS.ProcessEnv = process.env): SpecFetchOptions {
  const cap = Number(env.BIFROST_SPEC_MAX_BYTES);
  return {
    allowHttpLoopback: env.BIFROST_ALLOW_HTTP_LOOPBACK === "1",
    timeoutMs: 60_000,
    maxBytes: Number.isFinite(cap) && cap > 0 ? cap : DEFAULT_SPEC_MAX_BYTES,
  };
}

/** Check scheme, credentials and IP literals under the outbound policy; returns the parsed URL. */
function checkSpecUrl(raw: string, allowHttpLoopback: boolean): URL {
  try {
    return checkOutboundUrl(raw, { allowHttpLoopback, subject: "Spec URL" });
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw new SpecUrlRefusedError(err.message, err.details);
    throw err;
  }
}

export interface FetchedDocument {
  url: string;
  text: string;
  contentType: string | null;
}

/** Download one document under the policy. */
export async function fetchSpecUrl(raw: string, opts: SpecFetchOptions): Promise<FetchedDocument> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  let url = checkSpecUrl(raw, opts.allowHttpLoopback);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = (await undiciFetch(url, { redirect: "manual", signal: timeout, dispatcher: guardedAgent(url.protocol, opts.allowHttpLoopback), headers: { accept: "application/json, application/yaml, text/yaml, */*" } } as never)) as unknown as Response;
    } catch (err) {
      const refused = refusedCause(err);
      if (refused) {
        const e = connectRefusal(url, refused.reason, { allowHttpLoopback: opts.allowHttpLoopback, subject: "Spec URL" });
        throw new SpecUrlRefusedError(hop > 0 ? `Redirect refused: ${e.message}` : e.message, { ...e.details, ...(hop > 0 ? { redirect: true } : {}) });
      }
      if (timeout.aborted) throw new SpecFetchError(`No answer from ${url.origin} within ${opts.timeoutMs} ms (timeout).`, { origin: url.origin, reason: "timeout" });
      throw new SpecFetchError(`Could not reach ${url.origin} (network error).`, { origin: url.origin, reason: "network" });
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get("location");
      if (!location) throw new SpecFetchError(`${url.origin} answered ${res.status} without a Location header.`, { origin: url.origin, status: res.status });
      if (hop >= 5) throw new SpecFetchError(`Too many redirects while fetching ${url.origin}.`, { origin: url.origin });
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new SpecFetchError(`${url.origin} redirected to an invalid URL.`, { origin: url.origin });
      }
      // The redirect target passes the same policy (scheme, literal address; resolved address at connect time).
      try {
        url = checkSpecUrl(next.toString(), opts.allowHttpLoopback);
      } catch (err) {
        if (err instanceof SpecUrlRefusedError) throw new SpecUrlRefusedError(`Redirect refused: ${err.message}`, { ...err.details, redirect: true });
        throw err;
      }
      continue;
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel().catch(() => undefined);
      throw new SpecFetchError(`${url.origin}${url.pathname} answered HTTP ${res.status}.`, { origin: url.origin, status: res.status });
    }
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(url, opts.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > opts.maxBytes) {
            await reader.cancel().catch(() => undefined);
            throw tooLarge(url, opts.maxBytes);
          }
          chunks.push(value);
          opts.onBytes?.(total, Number.isFinite(declared) ? declared : null);
        }
      }
    } catch (err) {
      if (err instanceof SpecTooLargeError) throw err;
      if (timeout.aborted) throw new SpecFetchError(`No complete answer from ${url.origin} within ${opts.timeoutMs} ms (timeout).`, { origin: url.origin, reason: "timeout" });
      throw new SpecFetchError(`The connection to ${url.origin} failed while reading the spec.`, { origin: url.origin, reason: "network" });
    }
    const text = Buffer.concat(chunks).toString("utf8");
    return { url: url.toString(), text, contentType: res.headers.get("content-type") };
  }
}

function tooLarge(url: URL, max: number): SpecTooLargeError {
  return new SpecTooLargeError(`The spec at ${url.origin}${url.pathname} is larger than ${max} bytes (${Math.round(max / 1048576)} MiB); refused. Raise BIFROST_SPEC_MAX_BYTES to allow larger specs.`, { origin: url.origin, maxBytes: max });
}
