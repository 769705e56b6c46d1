/**
 * Serving the built console through @fastify/static and @fastify/helmet (no browser): precompressed
 * br/gzip variants when the browser accepts them, immutable caching for hashed assets, no-cache for
 * index.html, the console's CSP and frame/sniff/referrer headers, JSON 404s for missing files, paths
 * outside the console directory and unknown /api routes, 503 when the console is not built, and the
 * OAuth callback page keeping its own stricter CSP.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { precompress } from "../../scripts/console-compress.js";
import { CALLBACK_CSP } from "../../src/server/callback-page.js";
import { CONSOLE_CSP } from "../../src/server/console/routes.js";
import { sqliteBackend } from "../helpers/backends.js";
import { envelope, type Harness, setup } from "../server/harness.js";

/** The console's policy before it moved to helmet, directive by directive. */
const CSP_BEFORE =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const directives = (csp: string) =>
  csp
    .split(";")
    .map((d) => d.trim())
    .filter(Boolean);

const JS = `export const greeting = ${JSON.stringify("hello console ".repeat(400))};\n`;
const HTML = `<!doctype html><html><head><script type="module" src="/assets/app-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>\n`;

describe("console static files", () => {
  let h: Harness;
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bifrost-console-"));
    await mkdir(join(dir, "assets"));
    await writeFile(join(dir, "index.html"), HTML);
    await writeFile(join(dir, "assets", "app-Ab12Cd34.js"), JS);
    await writeFile(join(dir, "assets", "raw-Zz99.js"), JS); // never precompressed: identity only
    const sizes = await precompress(dir);
    await rm(join(dir, "assets", "raw-Zz99.js.br"));
    await rm(join(dir, "assets", "raw-Zz99.js.gz"));
    expect(sizes.find((s) => s.file.endsWith("app-Ab12Cd34.js"))).toMatchObject({ bytes: JS.length, br: expect.any(Number), gzip: expect.any(Number) });
    h = await setup(sqliteBackend, { consoleDir: dir });
    app = h.app;
  });
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, acceptEncoding?: string): Promise<LightMyRequestResponse> =>
    app.inject({ method: "GET", url, headers: acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding } });

  const expectConsoleHeaders = (res: LightMyRequestResponse) => {
    expect(res.headers["content-security-policy"]).toBe(CONSOLE_CSP);
    expect(directives(String(res.headers["content-security-policy"]))).toEqual(directives(CSP_BEFORE));
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["referrer-policy"]).toBe("same-origin");
    expect(res.headers["cross-origin-opener-policy"]).toBe("same-origin-allow-popups");
  };

  it("index.html: brotli when accepted, no-cache, the console's CSP unchanged", async () => {
    for (const url of ["/", "/index.html"]) {
      const res = await get(url, "gzip, deflate, br");
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-encoding"]).toBe("br");
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(String(res.headers.vary)).toMatch(/accept-encoding/i);
      expect(brotliDecompressSync(res.rawPayload).toString()).toBe(HTML);
      expectConsoleHeaders(res);
    }
    const first = await get("/index.html");
    expect(first.body).toBe(HTML);
    const etag = String(first.headers.etag ?? "");
    expect(etag).not.toBe("");
    const again = await app.inject({ method: "GET", url: "/index.html", headers: { "if-none-match": etag } });
    expect(again.statusCode).toBe(304);
  });

  it("hashed assets: br or gzip by Accept-Encoding, identity without it, cached immutable for a year", async () => {
    const br = await get("/assets/app-Ab12Cd34.js", "br");
    expect(br.statusCode).toBe(200);
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers["content-type"]).toMatch(/javascript/);
    expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(br.rawPayload.length).toBeLessThan(JS.length / 10);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(JS);
    expectConsoleHeaders(br);

    const gz = await get("/assets/app-Ab12Cd34.js", "gzip");
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.rawPayload).toString()).toBe(JS);
    expect(gz.headers["cache-control"]).toBe("public, max-age=31536000, immutable");

    const plain = await get("/assets/app-Ab12Cd34.js");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toBe(JS);

    const onlyRaw = await get("/assets/raw-Zz99.js", "br, gzip");
    expect(onlyRaw.statusCode).toBe(200);
    expect(onlyRaw.headers["content-encoding"]).toBeUndefined();
    expect(onlyRaw.body).toBe(JS);

    const head = await app.inject({ method: "HEAD", url: "/assets/app-Ab12Cd34.js", headers: { "accept-encoding": "br" } });
    expect(head.statusCode).toBe(200);
    expect(head.headers["content-encoding"]).toBe("br");
    expect(head.body).toBe("");
  });

  it("missing files, paths outside the console directory and unknown /api routes are JSON 404s", async () => {
    envelope(await get("/assets/nope-123.js", "br"), 404, "BIFROST_NOT_FOUND");
    envelope(await get("/assets/../../package.json"), 404, "BIFROST_NOT_FOUND");
    envelope(await get("/assets/%2e%2e/%2e%2e/package.json"), 404, "BIFROST_NOT_FOUND");
    envelope(await get("/api/nope"), 404, "BIFROST_NOT_FOUND");
    envelope(await get("/api/integrations/HaloPSA/nope"), 404, "BIFROST_NOT_FOUND");
    const json = await get("/api/nope", "br");
    expect(json.headers["content-type"]).toMatch(/application\/json/);
  });

  it("the static routes stay out of the OpenAPI document", async () => {
    const doc = (await get("/api/openapi.json")).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith("/api/") && p !== "/healthz" && p !== "/readyz" && p !== "/mcp" && p !== "/connect/{token}")).toEqual([]);
  });

  it("the files on disk are what the server sent (no re-encoding per request)", async () => {
    const onDisk = await readFile(join(dir, "assets", "app-Ab12Cd34.js.br"));
    expect((await get("/assets/app-Ab12Cd34.js", "br")).rawPayload.equals(onDisk)).toBe(true);
  });
});

describe("console not built", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup(sqliteBackend, { consoleDir: null });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("/ answers 503 with the build command and the console's headers; /assets 404s", async () => {
    const res = await h.app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(503);
    expect(res.body).toMatch(/npm run build/);
    expect(res.headers["content-security-policy"]).toBe(CONSOLE_CSP);
    envelope(await h.app.inject({ method: "GET", url: "/assets/app.js" }), 404, "BIFROST_NOT_FOUND");
  });

  it("the OAuth callback page keeps its own CSP and no-referrer (helmet does not touch it)", async () => {
    const page = await h.app.inject({ method: "GET", url: `/api/oauth/callback/HaloPSA?state=${"A".repeat(43)}&code=x` });
    expect(page.statusCode).toBeGreaterThanOrEqual(400);
    expect(page.headers["content-security-policy"]).toBe(CALLBACK_CSP);
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    expect(page.headers["cache-control"]).toBe("no-store");
  });
});
