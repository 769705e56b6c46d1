/**
 * Load a spec from a file or URL: guarded download, JSON/YAML parse with positions, external `$ref`s
 * bundled (URL refs through the same guard), Swagger 2.0 converted with swagger2openapi, then
 * structural validation naming the JSON path of any problem.
 */
import { readFile, stat } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { importEsm } from "../core/esm-import.js";
import { defaultFetchOptions, fetchSpecUrl, type SpecFetchOptions } from "./fetch.js";
import { SpecFetchError, SpecInvalidError, SpecParseError, SpecTooLargeError } from "./errors.js";
import { markSwagger2Produces } from "./operations.js";
import { parseSpecText } from "./parse.js";
import { isObject, type JsonObject } from "./pointer.js";
import { noProgress, type ProgressReporter } from "./progress.js";
import { validateDocument } from "./validate.js";
import { BifrostError } from "../core/errors.js";

export interface LoadOptions extends Partial<SpecFetchOptions> {
  onProgress?: ProgressReporter;
}

export interface LoadedSpec {
  doc: JsonObject;
  /** "2.0" | "3.0.x" | "3.1.x" as found in the input (before conversion). */
  sourceVersion: string;
  source: string;
  bytes: number;
  warnings: string[];
}

export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

function hasExternalRefs(node: unknown): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (const x of n) if (typeof x === "object" && x !== null) stack.push(x);
    } else if (isObject(n)) {
      if (typeof n.$ref === "string" && !n.$ref.startsWith("#")) return true;
      for (const k in n) {
        const v = n[k];
        if (typeof v === "object" && v !== null) stack.push(v);
      }
    }
  }
  return false;
}

async function readLocal(path: string, maxBytes: number): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new SpecFetchError(`Spec file ${path} does not exist or cannot be read.`, { source: path });
  }
  if (size > maxBytes) throw new SpecTooLargeError(`Spec file ${path} is larger than ${maxBytes} bytes; refused. Raise BIFROST_SPEC_MAX_BYTES to allow larger specs.`, { source: path, maxBytes });
  return readFile(path, "utf8");
}

/** Load from a file path or URL. */
export async function loadSpec(source: string, opts: LoadOptions = {}): Promise<LoadedSpec> {
  const fetchOpts: SpecFetchOptions = { ...defaultFetchOptions(), ...Object.fromEntries(Object.entries(opts).filter(([k, v]) => v !== undefined && k !== "onProgress")) } as SpecFetchOptions;
  const progress = opts.onProgress ?? noProgress;
  const warnings: string[] = [];
  let text: string;
  let base: string;
  if (isUrl(source)) {
    progress({ phase: "download", done: 0, total: null, message: source });
    const got = await fetchSpecUrl(source, { ...fetchOpts, onBytes: (done, total) => progress({ phase: "download", done, total }) });
    text = got.text;
    base = got.url;
  } else {
    const path = resolvePath(source);
    text = await readLocal(path, fetchOpts.maxBytes);
    base = pathToFileURL(path).toString();
  }
  return loadFromText(text, source, base, fetchOpts, progress, warnings);
}

/**
 * Load an inline spec (HTTP API): text or an already-parsed object. External refs may only be URLs
 * (through the guarded fetch); file refs are refused.
 */
export async function loadSpecInline(spec: string | object, opts: LoadOptions = {}): Promise<LoadedSpec> {
  const fetchOpts: SpecFetchOptions = { ...defaultFetchOptions(), ...Object.fromEntries(Object.entries(opts).filter(([k, v]) => v !== undefined && k !== "onProgress")) } as SpecFetchOptions;
  const text = typeof spec === "string" ? spec : JSON.stringify(spec);
  if (Buffer.byteLength(text) > fetchOpts.maxBytes) throw new SpecTooLargeError(`The inline spec is larger than ${fetchOpts.maxBytes} bytes; refused.`, { maxBytes: fetchOpts.maxBytes });
  return loadFromText(text, "inline spec", null, fetchOpts, opts.onProgress ?? noProgress, []);
}

async function loadFromText(text: string, source: string, base: string | null, fetchOpts: SpecFetchOptions, progress: ProgressReporter, warnings: string[]): Promise<LoadedSpec> {
  const bytes = Buffer.byteLength(text);
  progress({ phase: "parse", message: `${(bytes / 1048576).toFixed(1)} MB` });
  const parsed = parseSpecText(text, source);
  if (!isObject(parsed)) throw new SpecInvalidError(`Invalid OpenAPI document at #/: the document must be an object.`, { path: "#/" });
  let doc: JsonObject = parsed;
  const sourceVersion = typeof doc.swagger === "string" ? doc.swagger : typeof doc.openapi === "string" ? doc.openapi : "unknown";

  if (hasExternalRefs(doc)) {
    progress({ phase: "bundle" });
    doc = await bundleExternal(doc, base, fetchOpts);
  }
  if (typeof doc.swagger === "string" || typeof doc.swagger === "number") {
    if (String(doc.swagger) !== "2.0") throw new SpecInvalidError(`Invalid OpenAPI document at #/swagger: unsupported Swagger version ${JSON.stringify(doc.swagger)} (2.0 is supported).`, { path: "#/swagger" });
    progress({ phase: "convert", message: "Swagger 2.0 → OpenAPI 3.0" });
    markSwagger2Produces(doc);
    doc = await convertSwagger2(doc);
  }
  progress({ phase: "validate" });
  validateDocument(doc);
  return { doc, sourceVersion, source, bytes, warnings };
}

async function convertSwagger2(doc: JsonObject): Promise<JsonObject> {
  const s2o = await importEsm<typeof import("swagger2openapi")>("swagger2openapi");
  try {
    const res = await s2o.convertObj(doc as never, { patch: true, warnOnly: true, resolveInternal: false, resolve: false } as never);
    return res.openapi as unknown as JsonObject;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new SpecInvalidError(`Invalid Swagger 2.0 document: ${msg.split("\n")[0]}`, { path: "#/", reason: msg.slice(0, 500) });
  }
}

/** Bundle external `$ref`s (files relative to the spec, and URLs through the guarded fetch). */
async function bundleExternal(doc: JsonObject, base: string | null, fetchOpts: SpecFetchOptions): Promise<JsonObject> {
  const allowFiles = base !== null && base.startsWith("file:");
  const { bundle } = await importEsm<typeof import("@readme/openapi-parser")>("@readme/openapi-parser");
  const cache = new Map<string, string>();
  const guardedHttp = {
    order: 1,
    canRead: /^https?:\/\//i,
    read: async (file: { url: string }): Promise<string> => {
      const hit = cache.get(file.url);
      if (hit === undefined && file.url.startsWith("https://inline.spec.invalid/")) throw new SpecFetchError("An inline spec can only reference absolute https URLs.", { ref: file.url });
      if (hit !== undefined) return hit;
      const got = await fetchSpecUrl(file.url, fetchOpts);
      cache.set(file.url, got.text);
      return got.text;
    },
  };
  try {
    // The root is read again through the resolvers (from the cache for a URL), so relative refs resolve against its location.
    // Relative refs in the root are made absolute against its location (file path or URL); refs inside
    // fetched documents are resolved against their own location by the bundler.
    const rootUrl = base ?? "https://inline.spec.invalid/openapi.json";
    absolutizeRefs(doc, (ref) => {
      const hash = ref.indexOf("#");
      const target = hash >= 0 ? ref.slice(0, hash) : ref;
      const frag = hash >= 0 ? ref.slice(hash) : "";
      const abs = new URL(target, rootUrl);
      if (abs.protocol === "file:") {
        if (!allowFiles) throw new SpecFetchError(`A spec loaded from a URL or inline can only reference https URLs, not ${JSON.stringify(ref)}.`, { ref });
        return fileURLToPath(abs) + frag;
      }
      if (abs.hostname === "inline.spec.invalid") throw new SpecFetchError(`An inline spec can only reference absolute https URLs, not ${JSON.stringify(ref)}.`, { ref });
      return abs.toString() + frag;
    });
    const out = await bundle(doc as never, {
      // @readme/openapi-parser keeps only `file`, `external` and the fields of `http`: our guarded reader replaces its download.
      resolve: { external: true, http: guardedHttp, file: allowFiles ? { canRead: (f: { url: string }) => !/^https?:/i.test(f.url) } : false } as never,
    } as never);
    return out as unknown as JsonObject;
  } catch (err) {
    if (err instanceof BifrostError) throw err;
    const cause = findBifrostCause(err);
    if (cause) throw cause;
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof SpecParseError) throw err;
    throw new SpecFetchError(`Could not bundle an external $ref: ${msg.split("\n")[0]}`, { reason: msg.slice(0, 500) });
  }
}

function absolutizeRefs(node: unknown, fix: (ref: string) => string): void {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (const x of n) if (typeof x === "object" && x !== null) stack.push(x);
    } else if (isObject(n)) {
      if (typeof n.$ref === "string" && !n.$ref.startsWith("#")) n.$ref = fix(n.$ref);
      for (const k in n) {
        const v = n[k];
        if (typeof v === "object" && v !== null) stack.push(v);
      }
    }
  }
}

function findBifrostCause(err: unknown): BifrostError | null {
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    if (e instanceof BifrostError) return e;
    const errs = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errs)) for (const x of errs) if (x instanceof BifrostError) return x;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return null;
}
