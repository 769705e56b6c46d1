/**
 * A tiny raw `node:http` token endpoint for tests: each path answers with whatever the test sets
 * (status, content-type, body, redirect, hang), and counts the requests it saw per path. No mocks:
 * the OAuth core talks to it over a real socket on 127.0.0.1.
 */
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface Reply {
  status?: number;
  /** Default application/json. */
  contentType?: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
  /** Send this many bytes of filler (with or without a content-length header). */
  bigBody?: { bytes: number; chunked: boolean };
}

export interface TokenServer {
  base: string;
  /** Requests seen, by path. */
  counts: Record<string, number>;
  /** Total requests seen. */
  total(): number;
  /** The reply per path; a function gets a fresh reply per request. */
  routes: Map<string, Reply | ((n: number) => Reply)>;
  close(): Promise<void>;
}

let seq = 0;
/** A unique, well-formed token response (JSON object). */
export function tokenBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return { access_token: `AT-${process.pid}-${seq}-${Math.random().toString(36).slice(2)}`, token_type: "Bearer", expires_in: 3600, ...extra };
}

export async function startTokenServer(): Promise<TokenServer> {
  const server = http.createServer();
  const ts: TokenServer = {
    base: "",
    counts: {},
    total: () => Object.values(ts.counts).reduce((a, b) => a + b, 0),
    routes: new Map(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    ts.counts[path] = (ts.counts[path] ?? 0) + 1;
    req.resume();
    req.on("end", () => {
      const route = ts.routes.get(path);
      const reply: Reply = typeof route === "function" ? route(ts.counts[path] as number) : (route ?? { status: 404, body: { error: "not_found" } });
      if (reply.hang) return;
      if (reply.bigBody) {
        const chunk = Buffer.alloc(1024, "a");
        const headers: Record<string, string | number> = { "content-type": "application/json" };
        if (!reply.bigBody.chunked) headers["content-length"] = reply.bigBody.bytes;
        res.writeHead(200, headers);
        let left = reply.bigBody.bytes;
        const pump = () => {
          while (left > 0) {
            const n = Math.min(left, chunk.byteLength);
            left -= n;
            if (!res.write(chunk.subarray(0, n))) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
        return;
      }
      const body = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? "application/json", "cache-control": "no-store", ...(reply.headers ?? {}) });
      res.end(body);
    });
    res.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  ts.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return ts;
}
