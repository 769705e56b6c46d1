/**
 * A hostile token endpoint on 127.0.0.1: it records every request it receives (path, Authorization
 * header, form body) and answers whatever the test says, typically an error whose text quotes back
 * what it received. No mocks: the OAuth core talks to it over a real socket.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  authorization: string | null;
  body: string;
  params: URLSearchParams;
}

interface Answer {
  status: number;
  body: unknown;
}

export interface EchoProvider {
  base: string;
  received: Received[];
  /** The answer per path (default: 404); null = never answer (the request hangs until the server closes). */
  answer: Map<string, (r: Received) => Answer | null>;
  close(): Promise<void>;
}

export async function startEchoProvider(): Promise<EchoProvider> {
  const server = http.createServer();
  const ep: EchoProvider = {
    base: "",
    received: [],
    answer: new Map(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on("request", (req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => (body += d));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] as string;
      const rec: Received = { path, authorization: req.headers.authorization ?? null, body, params: new URLSearchParams(body) };
      ep.received.push(rec);
      const route = ep.answer.get(path);
      const a = route ? route(rec) : { status: 404, body: { error: "not_found" } };
      if (a === null) return;
      res.writeHead(a.status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(typeof a.body === "string" ? a.body : JSON.stringify(a.body));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  ep.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return ep;
}

const SENSITIVE = ["code", "code_verifier", "refresh_token", "client_secret", "client_assertion", "token", "access_token"];

/**
 * Every credential the listener received, in the forms a leak would take: each sensitive form value
 * (raw and URL-encoded), the Authorization header, its base64 part, the decoded `id:secret` and the
 * secret part (raw and form-decoded). The client id is not in the list: it may stay visible.
 */
export function sentForms(received: readonly Received[]): string[] {
  const out = new Set<string>();
  const add = (v: string | null | undefined) => {
    if (!v || v.length < 4) return;
    out.add(v);
    out.add(encodeURIComponent(v));
    out.add(Buffer.from(v).toString("base64").replace(/=+$/, ""));
  };
  for (const r of received) {
    for (const k of SENSITIVE) for (const v of r.params.getAll(k)) add(v);
    if (r.authorization) {
      out.add(r.authorization);
      const cred = r.authorization.replace(/^\S+\s+/, "");
      out.add(cred);
      if (/^basic /i.test(r.authorization)) {
        const decoded = Buffer.from(cred, "base64").toString("utf8");
        out.add(decoded);
        const secret = decoded.slice(decoded.indexOf(":") + 1);
        add(secret);
        add(decodeURIComponent(secret.replace(/\+/g, " ")));
      }
    }
  }
  return [...out];
}

/** Assert-friendly: the sent forms that occur in `text`. */
export function leaked(text: string, forms: readonly string[]): string[] {
  return forms.filter((f) => text.includes(f));
}
