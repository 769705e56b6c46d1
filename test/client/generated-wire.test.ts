/**
 * Generated modules on the wire: `--auth` choices and every request-body kind, against a local HTTP server
 * that records what arrives. Each choice has a positive control (the credential arrives) and a refusal
 * (nothing is sent); each body kind is either encoded correctly or refused with
 * BIFROST_CLIENT_INVALID_REQUEST before anything is sent.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateForIntegration } from "../../src/generator/service.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { createContext, runInContext } from "../../src/runtime/context.js";
import { integrations } from "../../src/runtime/integrations.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import type { StoreResolver } from "../../src/host/store-resolver.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { bootTest, sqliteBackend, tempDir } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, startAuthServer } from "../oauth/helpers/auth-server.js";
import { resolverFor } from "../oauth/helpers/setup.js";
import { type ApiServer, json, startApiServer } from "./helpers.js";

const FIXTURE = resolve(import.meta.dirname, "../fixtures/specs/constructs/bodies-types-3.0.yaml");
const CLIENT = resolve(import.meta.dirname, "../../src/client/index.ts");
const API_KEY = "ak-org-0123456789";
const BEARER = "bt-org-0123456789";
const PASSWORD = "pw-org-0123456789";

/** The operations of the fixture module this test calls. */
interface Tasks {
  listTasks(args?: object): Promise<unknown>;
  createTask(args: { body: unknown }): Promise<unknown>;
  uploadRaw(args: { body: unknown }): Promise<unknown>;
  uploadParts(args: { body: unknown }): Promise<unknown>;
  submitForm(args: { body: unknown }): Promise<unknown>;
  putNote(args: { body: unknown }): Promise<unknown>;
  putBlob(args: { body: unknown }): Promise<unknown>;
}

describe("generated modules on the wire: --auth choices and request bodies (sqlite)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let api: ApiServer;
  let authServer: AuthServer;
  let resolver: StoreResolver;
  let withKeys: ExecutionOrg;
  let bare: ExecutionOrg;
  const tmp = tempDir("bifrost-gen-wire-");
  const modules = new Map<string, Tasks>();
  const added = new Map<string, string[]>();
  let loads = 0;

  /** Generate the fixture for `integration` with `auth`, write it with the runtime import resolved, import it. */
  async function load(integration: string, auth: string): Promise<Tasks> {
    const res = await generateForIntegration(bf, integration, { spec: FIXTURE, auth, module: "tasks" }, false);
    added.set(`${integration} ${auth}`, res.configAdded.map((k) => k.key));
    // A new file per load: importing it evaluates the module (and creates its client) afresh.
    const file = join(tmp.dir, `${integration}-${auth.replace(/[^a-z0-9-]/gi, "_")}-${++loads}.ts`);
    writeFileSync(file, res.result.source.replaceAll('"bifrost/client"', JSON.stringify(CLIENT)));
    return (await import(file)) as Tasks;
  }

  beforeAll(async () => {
    process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
    api = await startApiServer();
    authServer = await startAuthServer({ integrations: ["TasksOAuth"] });
    const t = await bootTest(sqliteBackend);
    bf = t.bf;
    cleanup = t.cleanup;
    await createOrg(bf, { slug: "keys" });
    await createOrg(bf, { slug: "bare" });
    await createIntegration(bf, { name: "Tasks", configSchema: [] });
    await createIntegration(bf, { name: "TasksOAuth", configSchema: [] });
    for (const auth of ["spec", "none", "bearer", "basic", "api-key:header:X-Api-Key", "api-key:query:key"]) modules.set(auth, await load("Tasks", auth));
    modules.set("oauth", await load("TasksOAuth", "oauth"));
    // Every key the choices need exists now: the org sets its own credentials (they may go to its own base URL).
    await setMapping(bf, "Tasks", "keys", { entityId: "k", config: { base_url: `${api.url}/v1`, api_key: API_KEY, bearer_token: BEARER, username: "ann", password: PASSWORD } });
    await setMapping(bf, "Tasks", "bare", { entityId: "b", config: { base_url: `${api.url}/v1` } });
    await setMapping(bf, "TasksOAuth", "keys", { entityId: "k", config: { base_url: `${api.url}/v1` } });
    await setMapping(bf, "TasksOAuth", "bare", { entityId: "b", config: { base_url: `${api.url}/v1` } });
    resolver = resolverFor(bf);
    withKeys = (await resolver.findOrg("keys"))!;
    bare = (await resolver.findOrg("bare"))!;
  }, 60_000);
  afterAll(async () => {
    delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
    await cleanup?.();
    await api?.close();
    await authServer?.close();
    tmp.cleanup();
  });
  beforeEach(() => {
    api.seen = [];
    api.handler = (r, res) => (r.method === "GET" ? json(res, 200, []) : r.url.endsWith("/notes") ? void res.writeHead(200, { "content-type": "text/plain" }).end("ok") : void res.writeHead(204).end());
  });

  const as = <T>(org: ExecutionOrg, fn: () => Promise<T>): Promise<T> => runInContext(createContext({ org, caller: { kind: "cli", platform: false }, resolver }), fn);
  const mod = (auth: string): Tasks => modules.get(auth) as Tasks;
  const credentialsSeen = (): string[] =>
    api.seen.flatMap((s) => [s.headers.authorization, s.headers["x-api-key"], new URL(s.url, "http://x").searchParams.get("key")].filter((v): v is string => typeof v === "string"));

  it("the config keys each choice needs are added and reported", () => {
    expect(added.get("Tasks spec")).toEqual(["base_url"]);
    expect(added.get("Tasks bearer")).toEqual(["bearer_token"]);
    expect(added.get("Tasks basic")).toEqual(["username", "password"]);
    expect(added.get("Tasks api-key:header:X-Api-Key")).toEqual(["api_key"]);
    // already there from the header variant
    expect(added.get("Tasks api-key:query:key")).toEqual([]);
    expect(added.get("Tasks none")).toEqual([]);
  });

  it("bearer: Authorization: Bearer from bearer_token; refused (nothing sent) without it", async () => {
    await as(withKeys, () => mod("bearer").listTasks());
    expect(api.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${BEARER}`]);
    api.seen = [];
    await expect(as(bare, () => mod("bearer").listTasks())).rejects.toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING", message: expect.stringContaining("bearer_token") });
    expect(api.seen).toEqual([]);
  });

  it("basic: Authorization: Basic from username / password; refused without them", async () => {
    await as(withKeys, () => mod("basic").listTasks());
    expect(api.seen.map((s) => s.headers.authorization)).toEqual([`Basic ${Buffer.from(`ann:${PASSWORD}`).toString("base64")}`]);
    api.seen = [];
    await expect(as(bare, () => mod("basic").listTasks())).rejects.toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING", message: expect.stringContaining("username") });
    expect(api.seen).toEqual([]);
  });

  it("api-key:header:NAME and api-key:query:NAME send api_key there and nowhere else; refused without it", async () => {
    await as(withKeys, () => mod("api-key:header:X-Api-Key").listTasks());
    await as(withKeys, () => mod("api-key:query:key").listTasks());
    const [h, q] = api.seen;
    expect(h!.headers["x-api-key"]).toBe(API_KEY);
    expect(h!.url).toBe("/v1/tasks");
    expect(h!.headers.authorization).toBeUndefined();
    expect(q!.url).toBe(`/v1/tasks?key=${API_KEY}`);
    expect(q!.headers["x-api-key"]).toBeUndefined();
    api.seen = [];
    await expect(as(bare, () => mod("api-key:header:X-Api-Key").listTasks())).rejects.toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING", message: expect.stringContaining("api_key") });
    await expect(as(bare, () => mod("api-key:query:key").listTasks())).rejects.toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING" });
    expect(api.seen).toEqual([]);
  });

  it("none and spec (the fixture declares no scheme): the request goes out without any credential, though the org has them", async () => {
    await as(withKeys, () => mod("none").listTasks());
    await as(withKeys, () => mod("spec").listTasks());
    expect(api.seen.map((s) => s.url)).toEqual(["/v1/tasks", "/v1/tasks"]);
    expect(credentialsSeen()).toEqual([]);
  });

  it("oauth: the integration's OAuth token as Bearer; refused (nothing sent) when the integration has no OAuth", async () => {
    const oauthMod = mod("oauth");
    expect(added.get("TasksOAuth oauth")).toEqual(["base_url"]);
    // No OAuth provider yet: nothing can authenticate the call.
    await expect(as(withKeys, () => oauthMod.listTasks())).rejects.toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING", message: expect.stringContaining("OAuth") });
    expect(api.seen).toEqual([]);
    await setOAuthProvider(bf, "TasksOAuth", { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${authServer.issuer}/token`, scopes: ["api:read"] });
    // The token is integration-level: only to trusted origins. The org's base URL is not one: refused, nothing sent.
    await expect(as(withKeys, () => oauthMod.listTasks())).rejects.toMatchObject({ code: "BIFROST_CLIENT_UNTRUSTED_ORIGIN" });
    expect(api.seen).toEqual([]);
    await bf.store.updateIntegration((await bf.store.getIntegrationByName("TasksOAuth"))!.id, { trustedOrigins: [api.url], updatedAt: new Date().toISOString() });
    const token = await as(withKeys, async () => (await integrations.require("TasksOAuth")).oauth?.accessToken);
    expect(token).toBeTruthy();
    await as(withKeys, () => oauthMod.listTasks());
    expect(api.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${token}`]);
  });

  it("integration.fetch() without an auth option uses the --auth choice of the integration's generated module loaded last", async () => {
    const m = await load("Tasks", "api-key:header:X-Api-Key");
    await as(withKeys, async () => {
      await m.listTasks();
      const res = await (await integrations.require("Tasks")).fetch("/raw/endpoint");
      expect(res.status).toBe(200);
    });
    expect(api.seen.map((s) => [s.url, s.headers["x-api-key"]])).toEqual([
      ["/v1/tasks", API_KEY],
      ["/v1/raw/endpoint", API_KEY],
    ]);
    api.seen = [];
    await expect(as(bare, async () => (await integrations.require("Tasks")).fetch("/raw/endpoint"))).rejects.toMatchObject({ code: "BIFROST_CLIENT_CREDENTIALS_MISSING" });
    expect(api.seen).toEqual([]);
  });

  describe("request bodies", () => {
    const m = (): Tasks => mod("none");
    const formOf = async (i: number): Promise<FormData> => {
      const s = api.seen[i]!;
      return new Response(s.body, { headers: { "content-type": s.headers["content-type"]! } }).formData();
    };

    it("multipart with a binary schema: a File, a Blob or bytes alone is sent as the part `file`", async () => {
      await as(withKeys, async () => {
        await m().uploadRaw({ body: new File(["file body"], "report.txt", { type: "text/plain" }) });
        await m().uploadRaw({ body: new Blob(["blob body"]) });
        await m().uploadRaw({ body: new Uint8Array([1, 2, 3]) });
      });
      expect(api.seen).toHaveLength(3);
      for (const s of api.seen) expect(s.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
      const f0 = (await formOf(0)).get("file") as File;
      expect([f0.name, await f0.text()]).toEqual(["report.txt", "file body"]);
      expect(await ((await formOf(1)).get("file") as Blob).text()).toBe("blob body");
      expect([...new Uint8Array(await ((await formOf(2)).get("file") as Blob).arrayBuffer())]).toEqual([1, 2, 3]);
    });

    it("multipart object: binary parts as files, arrays of files as repeated parts, nested objects as JSON parts", async () => {
      await as(withKeys, () =>
        m().uploadParts({ body: { file: new File(["main"], "main.bin"), attachments: [new File(["a"], "a.txt"), new Uint8Array([7])], note: "hi", meta: { source: "s" } } }),
      );
      const form = await formOf(0);
      expect(await (form.get("file") as File).text()).toBe("main");
      const att = form.getAll("attachments") as File[];
      expect(att.map((f) => f.name)).toEqual(["a.txt", "attachments"]);
      expect([await att[0]!.text(), [...new Uint8Array(await att[1]!.arrayBuffer())]]).toEqual(["a", [7]]);
      expect(form.get("note")).toBe("hi");
      expect(await (form.get("meta") as Blob).text()).toBe('{"source":"s"}');
    });

    it("form-urlencoded nesting; text/plain; octet-stream from a Blob, bytes and a ReadableStream", async () => {
      await as(withKeys, async () => {
        await m().submitForm({ body: { name: "n m", address: { city: "Oslo", lines: ["1", "2"] }, tags: ["a", "b"], when: new Date(0) } });
        expect(await m().putNote({ body: "hello" })).toBe("ok");
        await m().putBlob({ body: new Blob(["blob"]) });
        await m().putBlob({ body: new Uint8Array([4, 5]) });
        await m().putBlob({
          body: new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(new TextEncoder().encode("str"));
              c.enqueue(new TextEncoder().encode("eam"));
              c.close();
            },
          }),
        });
      });
      const [f, t, b, u, s] = api.seen;
      expect(f!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
      expect(decodeURIComponent(f!.body.toString())).toBe("name=n+m&address[city]=Oslo&address[lines]=1&address[lines]=2&tags=a&tags=b&when=1970-01-01T00:00:00.000Z");
      expect([t!.headers["content-type"], t!.body.toString()]).toEqual(["text/plain", "hello"]);
      expect([b!.headers["content-type"], b!.body.toString()]).toEqual(["application/octet-stream", "blob"]);
      expect([...u!.body]).toEqual([4, 5]);
      expect(s!.body.toString()).toBe("stream");
    });

    it("what a media type cannot carry is refused before anything is sent, naming the field and the fix", async () => {
      const stream = (): ReadableStream<Uint8Array> => new ReadableStream({ start: (c) => c.close() });
      const refusals: Array<[() => Promise<unknown>, RegExp]> = [
        // a Blob as the JSON body would be sent as {}
        [() => m().createTask({ body: new Blob(["x"]) }), /body is a Blob, which application\/json cannot carry/],
        // a Blob in a form field would vanish
        [() => m().submitForm({ body: { name: new Blob(["x"]) } }), /body field "name" is a Blob, which application\/x-www-form-urlencoded cannot carry; send files as multipart/],
        [() => m().submitForm({ body: new Uint8Array([1]) }), /body is a Uint8Array/],
        // streams cannot be a multipart part
        [() => m().uploadParts({ body: { file: stream() } }), /body field "file" is a stream.*new Response\(stream\)\.blob\(\)/],
        [() => m().uploadRaw({ body: stream() }), /body is a stream/],
        [() => m().uploadRaw({ body: 42 }), /body is a number.*multipart/],
        // an object has no text form
        [() => m().putNote({ body: { a: 1 } }), /body is a Object, which text\/plain cannot carry; pass a string/],
        [() => m().putBlob({ body: { a: 1 } }), /body is a Object, which application\/octet-stream cannot carry/],
      ];
      for (const [call, message] of refusals) {
        const e = await as(withKeys, call).then(
          () => null,
          (x: unknown) => x,
        );
        expect(e).toMatchObject({ code: "BIFROST_CLIENT_INVALID_REQUEST", message: expect.stringMatching(message) });
        expect((e as Error).message).toContain("Nothing was sent");
      }
      expect(api.seen).toEqual([]);
    });
  });
});
