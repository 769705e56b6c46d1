import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiError, binaryBody, styledParams, ClientError, createClient, formBody, multipartBody, paginate, type ClientSpec, type OperationSpec } from "../../src/client/index.js";
import { buildQuery } from "../../src/client/serialize.js";
import { WorkflowError } from "../../src/core/errors.js";
import { createContext, runInContext } from "../../src/runtime/context.js";
import { executeWorkflow } from "../../src/runtime/execute.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import { workflow } from "../../src/runtime/workflow.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setConfig, setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { bootTest, sqliteBackend } from "../helpers/backends.js";
import { type ApiServer, json, startApiServer, trustOrigins } from "./helpers.js";

const KEY = "sk-live-abcdef123456";

describe("bifrost/client runtime (sqlite)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let api: ApiServer;
  let foreign: ApiServer;
  let acme: ExecutionOrg;
  let globex: ExecutionOrg;

  beforeAll(async () => {
    // The local API servers speak plain http on loopback: allowed only with this switch.
    process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
    api = await startApiServer();
    foreign = await startApiServer();
    const t = await bootTest(sqliteBackend);
    bf = t.bf;
    cleanup = t.cleanup;
    await createOrg(bf, { slug: "acme", name: "Acme" });
    await createOrg(bf, { slug: "globex", name: "Globex" });
    await createIntegration(bf, {
      name: "Halo",
      configSchema: [
        { key: "base_url", type: "string" },
        { key: "api_key", type: "secret" },
        { key: "username", type: "string" },
        { key: "password", type: "secret" },
        { key: "tenant", type: "string" },
        { key: "token", type: "secret" },
      ],
      defaults: { api_key: KEY },
    });
    // acme: base URL override; globex: server URL from the spec with the port variable from config.
    await setMapping(bf, "Halo", "acme", { entityId: "c-1", config: { base_url: `${api.url}/v1` } });
    // The org's base URL (a local server) is trusted for the integration's default key (trusted_origins).
    await trustOrigins(bf.store, "Halo", [api.url]);
    await setMapping(bf, "Halo", "globex", { entityId: "c-2", config: { tenant: new URL(api.url).port, username: "bob", password: "pa:ss" } });
    acme = (await bf.resolver.findOrg("acme"))!;
    globex = (await bf.resolver.findOrg("globex"))!;
  });
  afterAll(async () => {
    delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
    await cleanup?.();
    await api?.close();
    await foreign?.close();
  });
  beforeEach(() => {
    api.seen = [];
    foreign.seen = [];
    api.handler = (_r, res) => json(res, 200, { ok: true });
  });

  const spec: ClientSpec = {
    integration: "Halo",
    servers: [{ url: "http://127.0.0.1:{tenant}/srv", variables: { tenant: { default: "1" } } }],
    securitySchemes: {
      key: { type: "apiKey", in: "header", name: "X-Api-Key", configKey: "api_key" },
      qkey: { type: "apiKey", in: "query", name: "api_key", configKey: "api_key" },
      ckey: { type: "apiKey", in: "cookie", name: "session", configKey: "api_key" },
      basic: { type: "http", scheme: "basic", usernameKey: "username", passwordKey: "password" },
      bearer: { type: "http", scheme: "bearer", configKey: "token" },
      oauth: { type: "oauth2" },
    },
    security: [{ key: [] }],
  };
  const fast = { retryBaseMs: 5, retryMaxMs: 2_000 };
  const as = <T>(org: ExecutionOrg | null, fn: () => Promise<T>): Promise<T> =>
    runInContext(createContext({ org, caller: { kind: "cli", platform: false }, resolver: bf.resolver }), fn);

  const getTicket: OperationSpec = {
    id: "getTicket",
    method: "GET",
    path: "/tickets/{id}/{label}",
    params: [
      { name: "id", in: "path", required: true },
      { name: "label", in: "path", style: "label", explode: false },
      { name: "tags", in: "query", explode: false },
      { name: "filter", in: "query", style: "deepObject", explode: true },
      { name: "ids", in: "query", style: "pipeDelimited", explode: false },
    ],
  };

  it("base URL from the org override; path, query, header and cookie parameters serialised", async () => {
    const client = createClient(spec);
    const out = await as(acme, () =>
      client.request(
        getTicket,
        {
          path: { id: "a/b c", label: ["x", "y"] },
          query: { tags: ["p", "q"], filter: { status: "open", owner: { id: 7 } }, ids: [1, 2], multi: ["m", "n"], skip: undefined, when: new Date(0) },
          headers: { "X-Trace": "t1" },
          cookies: { pref: "dark mode" },
        },
        [styledParams],
      ),
    );
    expect(out).toEqual({ ok: true });
    const r = api.seen[0]!;
    expect(r.url).toBe(
      "/v1/tickets/a%2Fb%20c/.x,y?tags=p,q&filter%5Bstatus%5D=open&filter%5Bowner%5D%5Bid%5D=7&ids=1|2&multi=m&multi=n&when=1970-01-01T00%3A00%3A00.000Z",
    );
    expect(r.headers["x-trace"]).toBe("t1");
    expect(r.headers["x-api-key"]).toBe(KEY);
    expect(r.headers.cookie).toBe("pref=dark%20mode");
  });

  it("without a base_url: the spec's server URL with variables from config (falls back to defaults)", async () => {
    const client = createClient(spec);
    await as(globex, () => client.request({ id: "ping", method: "GET", path: "/ping" }));
    expect(api.seen[0]!.url).toBe("/srv/ping");
    const noServer = createClient({ ...spec, servers: [] });
    const err = await as(null, () => noServer.request({ id: "ping", method: "GET", path: "/ping" })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BIFROST_CLIENT_NO_BASE_URL" });
    expect((err as Error).message).toContain('config key "base_url"');
  });

  it("a base URL that is not absolute: the error says so and how to fix it", async () => {
    const relative = createClient({ ...spec, servers: [{ url: "/srv" }] });
    const err = await as(null, () => relative.request({ id: "ping", method: "GET", path: "/ping" })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BIFROST_CLIENT_NO_BASE_URL", details: { server: "/srv" } });
    expect((err as Error).message).toContain('not an absolute http(s) URL; set config key "base_url" to a full URL');
  });

  it("path parameters: missing and dot-segment values are refused before any request", async () => {
    const client = createClient(spec);
    const op: OperationSpec = { id: "get", method: "GET", path: "/t/{id}" };
    for (const id of [undefined, "..", ".", "%2e%2E"]) {
      const err = await as(acme, () => client.request(op, { path: { id } })).catch((e: unknown) => e);
      if (id === "%2e%2E") {
        expect(err).toEqual({ ok: true }); // "%" is encoded to %25: a literal, not a dot segment
        expect(api.seen.at(-1)!.url).toBe("/v1/t/%252e%252E");
      } else expect(err).toMatchObject({ code: "BIFROST_CLIENT_INVALID_REQUEST" });
    }
  });

  it("query styles: form explode on/off for objects, spaceDelimited, allowReserved, content-serialised", () => {
    const op: OperationSpec = {
      id: "q",
      method: "GET",
      path: "/",
      params: [
        { name: "o", in: "query", explode: false },
        { name: "s", in: "query", style: "spaceDelimited", explode: false },
        { name: "r", in: "query", allowReserved: true },
        { name: "j", in: "query", contentType: "application/json" },
      ],
    };
    expect(buildQuery(op, { o: { a: 1, b: "x y" }, s: ["a", "b"], r: "a/b:c&d", j: { k: [1] }, e: { p: 1, q: 2 }, n: null })).toBe(
      "o=a,1,b,x%20y&s=a%20b&r=a/b:c%26d&j=%7B%22k%22%3A%5B1%5D%7D&p=1&q=2",
    );
  });

  it("bodies: JSON, nested form, multipart with binary parts, octet-stream from bytes and from a stream", async () => {
    const client = createClient(spec);
    const op = (mediaTypes: string[]): OperationSpec => ({ id: "post", method: "POST", path: "/up", body: { mediaTypes, required: true } });
    await as(acme, async () => {
      await client.request(op(["application/json"]), { body: { a: [1, { b: "c" }] } });
      await client.request(op(["application/x-www-form-urlencoded"]), { body: { name: "n", meta: { k: "v w" }, tags: ["a", "b"], items: [{ id: 1 }] } }, [formBody]);
      await client.request(op(["multipart/form-data"]), { body: { title: "t", file: new Uint8Array([1, 2, 3]), doc: new Blob(["hi"], { type: "text/plain" }), meta: { x: 1 } } }, [formBody, multipartBody]);
      await client.request(op(["application/octet-stream"]), { body: new Uint8Array([9, 8, 7]) }, [binaryBody]);
      await client.request(op(["application/octet-stream"]), { body: Readable.from([Buffer.from("str"), Buffer.from("eam")]) }, [multipartBody, binaryBody]);
      // Without the encoder the generated module would pass: refused before any request.
      await expect(client.request(op(["application/octet-stream"]), { body: new Uint8Array([1]) })).rejects.toMatchObject({ code: "BIFROST_CLIENT_INVALID_REQUEST" });
      await expect(client.request(op(["application/json"]))).rejects.toMatchObject({ code: "BIFROST_CLIENT_INVALID_REQUEST" });
    });
    const [j, f, m, b, s] = api.seen;
    expect(j!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(j!.body.toString())).toEqual({ a: [1, { b: "c" }] });
    expect(f!.body.toString()).toBe("name=n&meta%5Bk%5D=v+w&tags=a&tags=b&items%5B0%5D%5Bid%5D=1");
    const form = await new Response(m!.body, { headers: { "content-type": m!.headers["content-type"]! } }).formData();
    expect(form.get("title")).toBe("t");
    expect(new Uint8Array(await (form.get("file") as Blob).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(await (form.get("doc") as Blob).text()).toBe("hi");
    expect(await (form.get("meta") as Blob).text()).toBe('{"x":1}');
    expect([...b!.body]).toEqual([9, 8, 7]);
    expect(b!.headers["content-type"]).toBe("application/octet-stream");
    expect(s!.body.toString()).toBe("stream");
  });

  it("security: api key in query and cookie, basic, bearer from config; the first satisfiable requirement wins", async () => {
    const client = createClient(spec);
    const op = (security: OperationSpec["security"]): OperationSpec => ({ id: "s", method: "GET", path: "/s", ...(security ? { security } : {}) });
    await as(acme, async () => {
      await client.request(op([{ qkey: [] }]));
      await client.request(op([{ ckey: [] }]), { cookies: { a: "1" } });
      await client.request(op([{ oauth: [] }, { bearer: [] }, { key: [] }])); // no OAuth, no token key → api key
      await client.request(op([]));
    });
    await as(globex, () => client.request(op([{ basic: [] }])));
    await setConfig(bf, "Halo", "acme", { token: "tok-from-config-1" });
    await as(acme, () => client.request(op([{ bearer: [] }])));
    const [q, c, k, none, basic, bearer] = api.seen;
    expect(q!.url).toBe(`/v1/s?api_key=${KEY}`);
    expect(q!.headers["x-api-key"]).toBeUndefined();
    expect(c!.headers.cookie).toBe(`session=${KEY}; a=1`);
    expect(k!.headers["x-api-key"]).toBe(KEY);
    expect(none!.headers["x-api-key"]).toBeUndefined();
    expect(basic!.headers.authorization).toBe(`Basic ${Buffer.from("bob:pa:ss").toString("base64")}`);
    expect(bearer!.headers.authorization).toBe("Bearer tok-from-config-1");
    await setConfig(bf, "Halo", "acme", { token: null });
  });

  it("a missing credential names the integration, the org and the config key to set", async () => {
    const client = createClient(spec);
    const err = await as(acme, () => client.request({ id: "s", method: "GET", path: "/s", security: [{ basic: [] }] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING", details: { integration: "Halo", org: "acme" } });
    expect((err as Error).message).toContain('"username"');
    expect((err as Error).message).toContain('organization "acme"');
    expect(api.seen).toHaveLength(0);
  });

  it("credentials go only to the integration's own origin: an absolute next link elsewhere gets none", async () => {
    const client = createClient({ ...spec, security: [{ key: [], ckey: [] }, { bearer: [] }] });
    api.handler = (_r, res) => json(res, 200, [1, 2], { link: `<${foreign.url}/page2>; rel="next"` });
    foreign.handler = (_r, res) => json(res, 200, [3]);
    const op: OperationSpec = { id: "list", method: "GET", path: "/items", pagination: { style: "link" } };
    const items: number[] = [];
    await as(acme, async () => {
      for await (const i of paginate<number>(client, op, { headers: { Authorization: "Bearer manual-secret", "X-Other": "kept" }, cookies: { sid: "s1" } })) items.push(i);
    });
    expect(items).toEqual([1, 2, 3]);
    expect(api.seen[0]!.headers["x-api-key"]).toBe(KEY);
    const f = foreign.seen[0]!;
    expect(f.url).toBe("/page2");
    expect(f.headers["x-api-key"]).toBeUndefined();
    expect(f.headers.authorization).toBeUndefined();
    expect(f.headers.cookie).toBeUndefined();
    expect(f.headers["x-other"]).toBe("kept");
  });

  it("a redirect to another origin drops credentials too", async () => {
    const client = createClient(spec);
    api.handler = (_r, res) => {
      res.writeHead(302, { location: `${foreign.url}/moved` });
      res.end();
    };
    foreign.handler = (_r, res) => json(res, 200, { moved: true });
    expect(await as(acme, () => client.request({ id: "r", method: "GET", path: "/r" }))).toEqual({ moved: true });
    expect(foreign.seen[0]!.headers["x-api-key"]).toBeUndefined();
  });

  it("retries 429 honouring Retry-After (seconds and HTTP date), and 503 with backoff, for GET", async () => {
    const client = createClient(spec, fast);
    let n = 0;
    api.handler = (_r, res) => {
      n++;
      if (n === 1) json(res, 429, { error: "slow down" }, { "retry-after": "1" });
      else if (n === 2) json(res, 429, {}, { "retry-after": new Date(Date.now() + 1000).toUTCString() });
      else json(res, 200, { n });
    };
    const t0 = Date.now();
    expect(await as(acme, () => client.request({ id: "g", method: "GET", path: "/g" }))).toEqual({ n: 3 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    n = 0;
    api.handler = (_r, res) => (++n < 3 ? json(res, 503, {}) : json(res, 200, { n }));
    expect(await as(acme, () => client.request({ id: "g", method: "GET", path: "/g" }))).toEqual({ n: 3 });
  });

  it("never retries POST/PATCH without Idempotency-Key; retries with one; gives up after maxRetries", async () => {
    const client = createClient(spec, fast);
    api.handler = (_r, res) => json(res, 503, { error: "down" });
    const post: OperationSpec = { id: "create", method: "POST", path: "/c", body: { mediaTypes: ["application/json"] } };
    await expect(as(acme, () => client.request(post, { body: {} }))).rejects.toMatchObject({ status: 503 });
    expect(api.seen).toHaveLength(1);
    await expect(as(acme, () => client.request(post, { body: {}, headers: { "Idempotency-Key": "k1" } }))).rejects.toMatchObject({ status: 503 });
    expect(api.seen).toHaveLength(4);
    expect(api.seen[3]!.body.toString()).toBe("{}");
  });

  it("network errors are retried for GET; timeouts abort with BIFROST_CLIENT_TIMEOUT; a caller abort passes through", async () => {
    const client = createClient(spec, fast);
    let n = 0;
    api.handler = (_r, res) => {
      if (++n === 1) res.socket?.destroy();
      else json(res, 200, { n });
    };
    expect(await as(acme, () => client.request({ id: "g", method: "GET", path: "/g" }))).toEqual({ n: 2 });
    api.handler = () => undefined; // never answers
    const err = await as(acme, () => client.request({ id: "slow", method: "GET", path: "/slow" }, { timeoutMs: 150, maxRetries: 0 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BIFROST_CLIENT_TIMEOUT" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("caller gave up")), 50);
    await expect(as(acme, () => client.request({ id: "slow", method: "GET", path: "/slow" }, { signal: ac.signal }))).rejects.toThrow("caller gave up");
  });

  it("the timeout applies while the body is read, before the request is written, and to a caller-supplied fetch; the pool still works after", async () => {
    const client = createClient(spec, fast);
    const op: OperationSpec = { id: "stall", method: "GET", path: "/stall" };
    // Headers and half the body, then nothing.
    api.handler = (_r, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"partial":');
    };
    await expect(as(acme, () => client.request(op, { timeoutMs: 200, maxRetries: 0 }))).rejects.toMatchObject({ code: "BIFROST_CLIENT_TIMEOUT" });
    // Timeouts so short they expire while the request is still being dispatched / connected / queued.
    api.handler = () => undefined;
    const outcomes = await Promise.all(
      [0, 1, 1, 2, 5, 20].map((ms) => as(acme, () => client.request(op, { timeoutMs: ms, maxRetries: 0 })).then(() => "answered", (e: unknown) => (e as ClientError).code)),
    );
    expect(outcomes).toEqual(Array(6).fill("BIFROST_CLIENT_TIMEOUT"));
    api.handler = (_r, res) => json(res, 200, { fine: true });
    expect(await as(acme, () => client.request(op, { timeoutMs: 2_000 }))).toEqual({ fine: true });
    // A caller-supplied fetch may ignore the dispatcher: the timeout reaches it as an AbortSignal.
    const own = createClient(spec, { ...fast, fetch: (u, init) => {
      const { dispatcher: _ignored, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(u, rest);
    } });
    api.handler = () => undefined;
    await expect(as(acme, () => own.request(op, { timeoutMs: 150, maxRetries: 0 }))).rejects.toMatchObject({ code: "BIFROST_CLIENT_TIMEOUT" });
  });

  it("ApiError: status, parsed body, request id, operation, method; no secret in message, url or body", async () => {
    const client = createClient({ ...spec, security: [{ qkey: [] }] });
    api.handler = (r, res) => json(res, 404, { message: `no ticket for key ${KEY}`, echo: r.url }, { "x-amzn-requestid": "req-42" });
    const err = (await as(acme, () => client.request({ id: "getTicket", method: "GET", path: "/t/{id}" }, { path: { id: 5 }, query: { q: "x" } })).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "BIFROST_CLIENT_HTTP", status: 404, requestId: "req-42", operationId: "getTicket", method: "GET", url: `${api.url}/v1/t/5?q=x` });
    expect(err.body).toEqual({ message: "no ticket for key [REDACTED]", echo: "/v1/t/5?q=x&api_key=[REDACTED]" });
    expect(err.message).toBe(`getTicket: GET ${api.url}/v1/t/5?q=x failed with HTTP 404 Not Found (request id req-42): no ticket for key [REDACTED]`);
    expect(JSON.stringify({ ...err.toJSON(), body: err.body })).not.toContain(KEY);
    api.handler = (_r, res) => {
      res.writeHead(500, { "content-type": "text/html", "request-id": "r2" });
      res.end(`<h1>${"x".repeat(10_000)}</h1>`);
    };
    const e2 = (await as(acme, () => client.request({ id: "p", method: "POST", path: "/p" })).catch((e: unknown) => e)) as ApiError;
    expect(e2).toMatchObject({ status: 500, requestId: "r2" });
    expect((e2.body as string).length).toBeLessThanOrEqual(4097);
  });

  it("inside executeWorkflow: a client error fails the workflow with the secret redacted", async () => {
    const client = createClient(spec);
    api.handler = (_r, res) => json(res, 400, { error: `bad key ${KEY}` });
    const run = executeWorkflow(workflow("w", () => client.request({ id: "w", method: "GET", path: "/w" })), {}, { org: acme, caller: { kind: "cli", platform: false }, resolver: bf.resolver });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowError);
    expect((err as Error).message).not.toContain(KEY);
    expect((err as Error).message).toContain("HTTP 400");
  });

  describe("pagination across three pages", () => {
    const items = ["a", "b", "c", "d", "e"];
    it("Link header with relative next links", async () => {
      api.handler = (r, res) => {
        const page = Number(new URL(r.url, api.url).searchParams.get("page") ?? 1);
        const link: Record<string, string> = page < 3 ? { link: `<items?page=${page + 1}&per=2>; rel="next", <items?page=3>; rel="last"` } : {};
        json(res, 200, items.slice((page - 1) * 2, page * 2), link);
      };
      const client = createClient(spec);
      const out: string[] = [];
      await as(acme, async () => {
        for await (const x of paginate<string>(client, { id: "l", method: "GET", path: "/items", pagination: { style: "link" } }, { query: { per: 2 } })) out.push(x);
      });
      expect(out).toEqual(items);
      expect(api.seen.map((s) => s.url)).toEqual(["/v1/items?per=2", "/v1/items?page=2&per=2", "/v1/items?page=3&per=2"]);
      expect(api.seen.every((s) => s.headers["x-api-key"] === KEY)).toBe(true);
    });

    it("cursor in the body → request parameter", async () => {
      api.handler = (r, res) => {
        const c = Number(new URL(r.url, api.url).searchParams.get("cursor") ?? 0);
        json(res, 200, { data: { rows: items.slice(c, c + 2) }, meta: { next: c + 2 < items.length ? String(c + 2) : null } });
      };
      const client = createClient(spec);
      const out: string[] = [];
      await as(acme, async () => {
        const op: OperationSpec = { id: "c", method: "GET", path: "/c", pagination: { style: "cursor", param: "cursor", responsePath: ["meta", "next"], itemsPath: ["data", "rows"] } };
        for await (const x of paginate<string>(client, op)) out.push(x);
      });
      expect(out).toEqual(items);
      expect(api.seen).toHaveLength(3);
    });

    it("next URL in the body: relative (Twilio next_page_uri) and absolute (OData @odata.nextLink)", async () => {
      api.handler = (r, res) => {
        const u = new URL(r.url, api.url);
        const page = Number(u.searchParams.get("Page") ?? 0);
        const next = page < 2 ? `/v1/accounts.json?Page=${page + 1}&PageToken=t${page + 1}` : null;
        if (u.pathname.startsWith("/v1/accounts")) json(res, 200, { accounts: items.slice(page * 2, page * 2 + 2), next_page_uri: next });
        else json(res, 200, { value: items.slice(page * 2, page * 2 + 2), "@odata.nextLink": next ? `${api.url}/v1/users?Page=${page + 1}` : undefined });
      };
      const client = createClient(spec);
      const twilio: string[] = [];
      const graph: string[] = [];
      await as(acme, async () => {
        for await (const x of paginate<string>(client, { id: "t", method: "GET", path: "/accounts.json", pagination: { style: "nextUrl", responsePath: ["next_page_uri"], itemsPath: ["accounts"] } }, { query: { PageSize: 2 } })) twilio.push(x);
        for await (const x of paginate<string>(client, { id: "g", method: "GET", path: "/users", pagination: { style: "nextUrl", responsePath: ["@odata.nextLink"], itemsPath: ["value"] } })) graph.push(x);
      });
      expect(twilio).toEqual(items);
      expect(graph).toEqual(items);
      expect(api.seen.map((s) => s.url)).toEqual(["/v1/accounts.json?PageSize=2", "/v1/accounts.json?Page=1&PageToken=t1", "/v1/accounts.json?Page=2&PageToken=t2", "/v1/users", "/v1/users?Page=1", "/v1/users?Page=2"]);
      expect(api.seen.every((s) => s.headers["x-api-key"] === KEY)).toBe(true);
    });

    it("next URL on another origin gets no credentials", async () => {
      api.handler = (_r, res) => json(res, 200, { value: ["a"], "@odata.nextLink": `${foreign.url}/next` });
      foreign.handler = (_r, res) => json(res, 200, { value: ["b"] });
      const client = createClient({ ...spec, security: [{ key: [], ckey: [] }] });
      const out: string[] = [];
      await as(acme, async () => {
        for await (const x of paginate<string>(client, { id: "g", method: "GET", path: "/users", pagination: { style: "nextUrl", responsePath: ["@odata.nextLink"], itemsPath: ["value"] } })) out.push(x);
      });
      expect(out).toEqual(["a", "b"]);
      expect(api.seen[0]!.headers["x-api-key"]).toBe(KEY);
      expect(foreign.seen[0]!.headers["x-api-key"]).toBeUndefined();
      expect(foreign.seen[0]!.headers.cookie).toBeUndefined();
    });

    it("last item's id (Stripe has_more + starting_after)", async () => {
      const objs = items.map((id) => ({ id: `cus_${id}` }));
      api.handler = (r, res) => {
        const after = new URL(r.url, api.url).searchParams.get("starting_after");
        const start = after ? objs.findIndex((o) => o.id === after) + 1 : 0;
        json(res, 200, { object: "list", data: objs.slice(start, start + 2), has_more: start + 2 < objs.length });
      };
      const client = createClient(spec);
      const out: string[] = [];
      await as(acme, async () => {
        const op: OperationSpec = { id: "s", method: "GET", path: "/customers", pagination: { style: "lastItemCursor", param: "starting_after", idPath: ["id"], hasMorePath: ["has_more"], itemsPath: ["data"] } };
        for await (const x of paginate<{ id: string }>(client, op, { query: { limit: 2 } })) out.push(x.id);
      });
      expect(out).toEqual(objs.map((o) => o.id));
      expect(api.seen.map((s) => s.url)).toEqual(["/v1/customers?limit=2", "/v1/customers?limit=2&starting_after=cus_b", "/v1/customers?limit=2&starting_after=cus_d"]);
    });

    it("default parameter styles without styledParams: simple path, form + explode query", async () => {
      const client = createClient(spec);
      await as(acme, () => client.request({ id: "d", method: "GET", path: "/d/{id}" }, { path: { id: ["a b", 2] }, query: { tags: ["x", "y"], o: { p: 1 }, s: "a&b" } }));
      expect(api.seen[0]!.url).toBe("/v1/d/a%20b,2?tags=x&tags=y&p=1&s=a%26b");
    });

    it("page and offset parameters, stopping on an empty or short page", async () => {
      api.handler = (r, res) => {
        const q = new URL(r.url, api.url).searchParams;
        const start = q.has("page") ? (Number(q.get("page")) - 1) * 2 : Number(q.get("offset") ?? 0);
        json(res, 200, { results: items.slice(start, start + 2) });
      };
      const client = createClient(spec);
      const page: string[] = [];
      const offset: string[] = [];
      await as(acme, async () => {
        for await (const x of paginate<string>(client, { id: "p", method: "GET", path: "/p", pagination: { style: "page", param: "page", itemsPath: ["results"] } })) page.push(x);
        for await (const x of paginate<string>(client, { id: "o", method: "GET", path: "/o", pagination: { style: "offset", param: "offset", limitParam: "limit", itemsPath: ["results"] } }, { query: { limit: 2 } })) offset.push(x);
      });
      expect(page).toEqual(items);
      expect(offset).toEqual(items);
      expect(api.seen.map((s) => s.url)).toEqual(["/v1/p", "/v1/p?page=2", "/v1/p?page=3", "/v1/p?page=4", "/v1/o?limit=2", "/v1/o?limit=2&offset=2", "/v1/o?limit=2&offset=4"]);
    });
  });

  it("the runtime's own transport (straight through the dispatcher) answers exactly as fetch does: values, bodies sent, redirects, compression, errors", async () => {
    const zip = gzipSync(JSON.stringify({ zipped: true }));
    api.handler = (r, res) => {
      const path = r.url.split("?")[0];
      if (path === "/v1/json") return json(res, 200, { id: 1, name: "Zoë" }, { "set-cookie": "a=1", "x-multi": "one" });
      if (path === "/v1/text") return void res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("héllo");
      if (path === "/v1/gzip") return void res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(zip);
      if (path === "/v1/empty") return void res.writeHead(204).end();
      if (path === "/v1/bytes") return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from([0, 1, 254, 255]));
      if (path === "/v1/moved") return void res.writeHead(302, { location: "/v1/json" }).end();
      if (path === "/v1/missing") return json(res, 404, { message: "no such ticket" }, { "x-request-id": "req-9" });
      if (path === "/v1/echo") return json(res, 200, { method: r.method, type: r.headers["content-type"], body: r.body.toString("base64") });
      return json(res, 500, {});
    };
    const get = (path: string): OperationSpec => ({ id: "get", method: "GET", path });
    const post = (mediaTypes: string[]): OperationSpec => ({ id: "post", method: "POST", path: "/echo", body: { mediaTypes, required: true } });
    const run = async (client: ReturnType<typeof createClient>): Promise<unknown[]> => {
      const out: unknown[] = [];
      out.push(await client.request(get("/json")));
      out.push(await client.request(get("/text")));
      out.push(await client.request(get("/gzip")));
      out.push(await client.request(get("/empty")));
      out.push(Buffer.from(await client.request<ArrayBuffer>(get("/bytes"), { parseAs: "arrayBuffer" })).toString("hex"));
      const blob = await client.request<Blob>(get("/bytes"), { parseAs: "blob" });
      out.push([blob.type, Buffer.from(await blob.arrayBuffer()).toString("hex")]);
      out.push(await client.request(get("/moved")));
      const e = await client.request(get("/missing")).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      const { status, body, requestId, message } = e as ApiError;
      out.push({ status, body, requestId, message });
      out.push(await client.request(post(["application/json"]), { body: { a: [1, "b"] } }));
      out.push(await client.request(post(["application/x-www-form-urlencoded"]), { body: { name: "n m" } }, [formBody]));
      out.push(await client.request(post(["application/octet-stream"]), { body: new Uint8Array([9, 8, 7]) }, [binaryBody]));
      const page = await client.page(get("/json"), {});
      out.push([page.body, page.headers.get("set-cookie"), page.headers.get("x-multi"), page.url]);
      return out;
    };
    await as(acme, async () => {
      const direct = await run(createClient(spec));
      const directSeen = api.seen.splice(0);
      const viaFetch = await run(createClient(spec, { fetch }));
      expect(direct).toEqual(viaFetch);
      expect(direct[0]).toEqual({ id: 1, name: "Zoë" });
      expect(direct[2]).toEqual({ zipped: true });
      expect(direct[7]).toMatchObject({ status: 404, body: { message: "no such ticket" }, requestId: "req-9" });
      // Positive control that the two runs took different transports: only fetch adds its Fetch-metadata header.
      expect(directSeen.every((s) => s.headers["sec-fetch-mode"] === undefined && s.headers["user-agent"] === "node" && s.headers["x-api-key"] === KEY)).toBe(true);
      expect(api.seen.every((s) => s.headers["sec-fetch-mode"] === "cors")).toBe(true);
      expect(directSeen.map((s) => [s.method, s.url, s.body.toString("hex")])).toEqual(api.seen.map((s) => [s.method, s.url, s.body.toString("hex")]));
    });
  });
});
