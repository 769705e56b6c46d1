/**
 * A loopback HTTP listener that records every request it receives (method, path, headers, body) and
 * answers per path with what the test sets. Attack tests assert it received nothing.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Record<string, unknown>;
}

export interface Listener {
  /** http://127.0.0.1:PORT */
  base: string;
  port: number;
  received: Recorded[];
  answers: Map<string, Answer>;
  close(): Promise<void>;
}

export async function startListener(): Promise<Listener> {
  const server = http.createServer();
  const l: Listener = {
    base: "",
    port: 0,
    received: [],
    answers: new Map(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      l.received.push({ method: req.method ?? "", path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const a: Answer = l.answers.get(path.split("?")[0] as string) ?? { status: 404, body: { error: "not_found" } };
      const body = typeof a.body === "string" ? a.body : JSON.stringify(a.body ?? {});
      res.writeHead(a.status ?? 200, { "content-type": "application/json", ...(a.headers ?? {}) }).end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  l.port = (server.address() as AddressInfo).port;
  l.base = `http://127.0.0.1:${l.port}`;
  return l;
}
