/**
 * One HTTP request sent straight through an undici dispatcher (the guarded agent behind an attempt's
 * Deadline) instead of WHATWG fetch: no Request / Response / web streams per call. The answer resolves
 * when the response headers arrive; its body is collected into memory and read with text() / blob() /
 * arrayBuffer(), like a fetch Response's. Used by the client runtime for buffered reads only (a stream
 * or a Response for the caller still goes through fetch).
 */
import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate, inflateRaw } from "node:zlib";

interface Dispatcher {
  dispatch(opts: unknown, handler: unknown): boolean;
}

/** The part of a fetch Response the client runtime reads from a buffered answer. */
export interface BufferedAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** Discards the body (aborts the request if it is still arriving). */
  readonly body: { cancel(): Promise<void> };
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  blob(): Promise<Blob>;
}

const unzip = { gzip: promisify(gunzip), deflate: promisify(inflate), raw: promisify(inflateRaw), br: promisify(brotliDecompress) };

/**
 * The body decoded as fetch decodes it: no Accept-Encoding is sent, but a server may compress anyway
 * (gzip, deflate with or without its zlib wrapper, br; other codings are left as they are).
 */
async function decode(b: Buffer, coding: string | null): Promise<Buffer> {
  const c = coding?.trim().toLowerCase();
  if (!c || b.length === 0) return b;
  if (c === "gzip" || c === "x-gzip") return unzip.gzip(b);
  // deflate: zlib-wrapped (first byte 0x?8) or, as some servers send it, raw.
  if (c === "deflate") return ((b[0] as number) & 0x0f) === 8 ? unzip.deflate(b) : unzip.raw(b);
  if (c === "br") return unzip.br(b);
  return b;
}

class Answer implements BufferedAnswer {
  readonly body: { cancel(): Promise<void> };
  private used = false;
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    private readonly data: Promise<Buffer>,
    abort: () => void,
  ) {
    // A body that fails after it was discarded is nobody's error.
    data.catch(() => undefined);
    this.body = {
      cancel: () => {
        abort();
        return Promise.resolve();
      },
    };
  }
  private read(): Promise<Buffer> {
    if (this.used) return Promise.reject(new TypeError("Body is unusable: Body has already been read"));
    this.used = true;
    return this.data.then((b) => decode(b, this.headers.get("content-encoding")));
  }
  async text(): Promise<string> {
    return (await this.read()).toString("utf8");
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.read();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async blob(): Promise<Blob> {
    return new Blob([await this.read()], { type: this.headers.get("content-type") ?? "" });
  }
}

/**
 * Send `method url` with `headers` (lower-case names) and a string or byte `body` through `dispatcher`.
 * Rejects like undici's dispatch fails (connect refusals, a deadline's TimeoutError); once the headers
 * arrived, failures surface when the body is read.
 */
export function dispatchRequest(dispatcher: unknown, url: string, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined): Promise<BufferedAnswer> {
  const u = new URL(url);
  return new Promise<BufferedAnswer>((resolve, reject) => {
    let abort: (err?: Error) => void = () => undefined;
    /** Once the headers arrived: the body's chunks and its promise's functions. */
    const st: { chunks: Buffer[]; ok?: (b: Buffer) => void; fail?: (e: Error) => void } = { chunks: [] };
    (dispatcher as Dispatcher).dispatch(
      { origin: u.origin, path: u.pathname + u.search, method, headers, body: body ?? null },
      {
        onConnect(a: (err?: Error) => void): void {
          abort = a;
        },
        onHeaders(status: number, raw: Buffer[], _resume: unknown, statusText: string): boolean {
          if (status < 200) return true; // 1xx: informational
          const h = new Headers();
          for (let i = 0; i + 1 < raw.length; i += 2) h.append((raw[i] as Buffer).toString("latin1"), (raw[i + 1] as Buffer).toString("latin1"));
          const data = new Promise<Buffer>((ok, fail) => Object.assign(st, { ok, fail }));
          resolve(new Answer(status, statusText, h, data, () => abort(new DOMException("The body was discarded.", "AbortError"))));
          return true;
        },
        onData(chunk: Buffer): boolean {
          st.chunks.push(chunk);
          return true;
        },
        onComplete(): void {
          const c = st.chunks;
          st.ok?.(c.length === 1 ? (c[0] as Buffer) : Buffer.concat(c));
        },
        onError(err: Error): void {
          if (st.fail) st.fail(err);
          else reject(err);
        },
      },
    );
  });
}
