/** Loading: guarded URLs (local HTTP server on 127.0.0.1), parse positions, invalid documents, external refs. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec, loadSpecInline } from "../../src/generator/load.js";
import { normalizeModuleName } from "../../src/generator/module-name.js";
import { FIXTURES } from "./specs.js";

const SMALL = JSON.stringify({ openapi: "3.0.3", info: { title: "t", version: "1" }, paths: { "/a": { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "./ext.json#/Thing" } } } } } } } } });
const EXT = JSON.stringify({ Thing: { type: "object", properties: { a: { type: "string" } } } });

let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/spec.json") return void res.writeHead(200, { "content-type": "application/json" }).end(SMALL);
    if (url === "/ext.json") return void res.writeHead(200, { "content-type": "application/json" }).end(EXT);
    if (url === "/redirect-private") return void res.writeHead(302, { location: "https://10.1.2.3/spec.json" }).end();
    if (url === "/redirect-metadata") return void res.writeHead(301, { location: "https://169.254.169.254/latest/meta-data" }).end();
    if (url === "/redirect-ok") return void res.writeHead(302, { location: "/spec.json" }).end();
    if (url === "/big-declared") return void res.writeHead(200, { "content-length": String(50 * 1024 * 1024) }).end();
    if (url === "/big-chunked") {
      // 50 MB without content-length: the cap must stop the read.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 50) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.on("error", () => undefined);
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const loop = { allowHttpLoopback: true, timeoutMs: 10_000 };

describe("guarded spec URLs", () => {
  it("plain http is refused without the loopback switch", async () => {
    await expect(loadSpec(`${base}/spec.json`, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringContaining("plain http") });
  });

  it("with BIFROST_ALLOW_HTTP_LOOPBACK, http to loopback works and URL $refs are bundled through the same guard", async () => {
    const s = await loadSpec(`${base}/spec.json`, loop);
    const schema = (s.doc.paths as never)["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    expect(JSON.stringify(s.doc)).toContain('"a":{"type":"string"}');
    expect(schema).toBeDefined();
  });

  it("http to a non-loopback host is refused even with the switch", async () => {
    await expect(loadSpec("http://example.com/spec.json", loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED" });
  });

  it("non-http schemes are refused", async () => {
    await expect(loadSpec("ftp://example.com/spec.json", loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED" });
  });

  it.each([
    ["https://127.0.0.1/spec.json", "loopback"],
    ["https://169.254.169.254/latest/meta-data", "link-local"],
    ["https://[::ffff:127.0.0.1]/spec.json", "loopback"],
    ["https://10.0.0.8/spec.json", "private"],
  ])("%s is refused before connecting (%s)", async (url, why) => {
    await expect(loadSpec(url, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringContaining(why) });
  });

  it("a host name resolving to 127.0.0.1 (localhost) is refused at connect time", async () => {
    const port = (server.address() as AddressInfo).port;
    await expect(loadSpec(`https://localhost:${port}/spec.json`, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringContaining("resolves to a loopback address") });
  });

  it("redirects to private / link-local addresses are refused; a same-host redirect is followed", async () => {
    await expect(loadSpec(`${base}/redirect-private`, loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringContaining("Redirect refused") });
    await expect(loadSpec(`${base}/redirect-metadata`, loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringContaining("link-local") });
    expect((await loadSpec(`${base}/redirect-ok`, loop)).doc.openapi).toBe("3.0.3");
  });

  it("a 50 MB response is refused by the size cap (declared or streamed)", async () => {
    await expect(loadSpec(`${base}/big-declared`, loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_TOO_LARGE" });
    await expect(loadSpec(`${base}/big-chunked`, loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_TOO_LARGE" });
  });

  it("HTTP errors and missing files are clear", async () => {
    await expect(loadSpec(`${base}/missing.json`, loop)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_FETCH_FAILED", message: expect.stringContaining("HTTP 404") });
    await expect(loadSpec(`${FIXTURES}/nope.yaml`)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_FETCH_FAILED" });
  });

  it("inline specs may not reference local files", async () => {
    const inline = { openapi: "3.0.0", info: { title: "x", version: "1" }, paths: { "/a": { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "/etc/passwd" } } } } } } } } };
    await expect(loadSpecInline(inline, loop)).rejects.toMatchObject({ code: expect.stringMatching(/^BIFROST_GENERATOR_/) });
  });
});

describe("parse and validation errors", () => {
  it("invalid JSON names line and column", async () => {
    await expect(loadSpec(`${FIXTURES}/invalid/bad.json`)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_PARSE", details: { line: 4, column: expect.any(Number) }, message: expect.stringMatching(/line 4, column \d+/) });
  });

  it("invalid YAML names line and column", async () => {
    await expect(loadSpec(`${FIXTURES}/invalid/bad.yaml`)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_PARSE", message: expect.stringMatching(/not valid YAML at line \d+, column \d+/) });
  });

  it("an invalid OpenAPI document names the JSON path", async () => {
    await expect(loadSpec(`${FIXTURES}/invalid/bad-openapi.yaml`)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_INVALID", details: { path: "#/paths/~1pets~1{id}/get/parameters/0/in" } });
    await expect(loadSpecInline({ openapi: "4.0.0", info: {}, paths: {} })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_INVALID", details: { path: "#/openapi" } });
    await expect(loadSpecInline({ openapi: "3.0.0", info: { title: "x", version: "1" }, paths: { "/a": { get: { responses: { "200": { $ref: "#/components/responses/Nope" } } } } } })).rejects.toMatchObject({
      code: "BIFROST_GENERATOR_SPEC_INVALID",
      details: { path: "#/paths/~1a/get/responses/200/$ref" },
    });
  });

  it("module names: normalised, and path tricks refused", () => {
    expect(normalizeModuleName("HaloPSA")).toBe("halopsa");
    expect(normalizeModuleName("Example API")).toBe("example_api");
    for (const bad of ["../x", "a/b", "a\\b", "..", "9lives", "___"]) expect(() => normalizeModuleName(bad)).toThrow(expect.objectContaining({ code: "BIFROST_GENERATOR_MODULE_NAME" }));
  });
});
