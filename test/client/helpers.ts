import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1 recording every request; the handler is swapped per test. */
export interface ApiServer {
  url: string;
  seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

export async function startApiServer(): Promise<ApiServer> {
  const server = http.createServer();
  server.keepAliveTimeout = 5_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const api: ApiServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: [],
    handler: (_req, res) => json(res, 200, { ok: true }),
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      api.seen.push(seen);
      Promise.resolve(api.handler(seen, res)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  return api;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A platform admin trusts `origins` for the integration's credentials (`trusted_origins`), so tests
 * whose organizations override base_url to a local server keep receiving integration-level credentials.
 */
export async function trustOrigins(store: { getIntegrationByName(n: string): Promise<{ id: string } | null>; updateIntegration(id: string, p: { trustedOrigins: string[]; updatedAt: string }): Promise<void> }, name: string, origins: string[]): Promise<void> {
  const i = await store.getIntegrationByName(name);
  if (!i) throw new Error(`no integration ${name}`);
  await store.updateIntegration(i.id, { trustedOrigins: origins.map((o) => new URL(o).origin), updatedAt: new Date().toISOString() });
}
