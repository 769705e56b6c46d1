/**
 * Parsing and structural validation of `bifrost.yaml` / `bifrost.json` (integrations as code).
 *
 * The file is parsed with the `yaml` package (JSON is valid YAML 1.2), so every error can name
 * the file, the path inside it (`integrations[0].config_schema[1].type`) and the line.
 * `${ENV_VAR}` substitution runs on parsed string values, never on the raw text, so a variable's
 * value can never add YAML structure.
 */
import { describeValue } from "../core/coerce.js";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { expandProvider, getProvider } from "../catalog/index.js";
import { parseConfigSchema } from "../core/config-schema.js";
import { ApplyFileError, BifrostError } from "../core/errors.js";
import { checkIntegrationName, checkOrgSlug } from "../core/names.js";
import type { ConfigSchemaItem } from "../core/types.js";
import { parseProviderConfig } from "../oauth/provider-config.js";
import { checkTrustedOrigins } from "./integration-trust.js";

export type PathSegment = string | number;

/** `["integrations", 0, "config_schema", 1, "type"]` → `integrations[0].config_schema[1].type`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

interface FileOrg {
  slug: string;
  name?: string;
  path: PathSegment[];
}

interface FileMapping {
  org: string;
  entityId?: string | number | null;
  entityName?: string | number | null;
  config?: Record<string, unknown>;
  path: PathSegment[];
}

export interface FileIntegration {
  name: string;
  /** undefined = keep; null = clear. */
  description?: string | null;
  /** undefined = keep the stored schema. */
  configSchema?: ConfigSchemaItem[];
  defaults?: Record<string, unknown>;
  /** undefined = keep; [] = clear. Normalized origins. */
  trustedOrigins?: string[];
  /** undefined = keep. */
  privateNetwork?: boolean;
  /** The `oauth:` provider block (validated structurally; applied with setOAuthProvider). undefined = keep; null = detach. */
  oauth?: Record<string, unknown> | null;
  mappings: FileMapping[];
  path: PathSegment[];
}

/** A parsed, structurally valid file; semantic checks against the store happen in apply.ts. */
export interface ParsedApplyFile {
  file: string;
  organizations: FileOrg[];
  integrations: FileIntegration[];
  /** Line of the node at `path` (1-based), when known. */
  lineOf(path: readonly PathSegment[], opts?: { key?: boolean }): number | undefined;
  /** An ApplyFileError naming file, path and line. */
  error(path: readonly PathSegment[], message: string, extra?: Record<string, unknown>, opts?: { key?: boolean }): ApplyFileError;
}

const TOP_FIELDS = ["organizations", "integrations"] as const;
const ORG_FIELDS = ["slug", "name"] as const;
const INTEGRATION_FIELDS = ["name", "provider", "description", "config_schema", "defaults", "trusted_origins", "private_network", "oauth", "mappings"] as const;
const MAPPING_FIELDS = ["org", "entity_id", "entity_name", "config"] as const;

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Inverse of substitution for export: a literal `${` is written as `$${`. */
export function escapeEnvRefs(text: string): string {
  return text.split("${").join("$${");
}

type Env = Readonly<Record<string, string | undefined>>;

/** Line numbers from the yaml CST: find the node (or its key) at a path. */
function locator(doc: Document, lc: LineCounter) {
  return (path: readonly PathSegment[], opts: { key?: boolean } = {}): number | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as PathSegment;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyStart = rangeStart(pair.key);
        if (last && opts.key) {
          offset = keyStart ?? offset;
          break;
        }
        node = pair.value;
        offset = rangeStart(node) ?? keyStart ?? offset;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg];
        if (item === undefined) break;
        node = item;
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lc.linePos(offset).line;
  };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * All the errors found in one file as one ApplyFileError: a single error unchanged; several as
 * "FILE: N errors:" followed by one "FILE:LINE: path: message" line each, in file order, with
 * `details.errors` listing `{ path, line, message }` (details.path / details.line name the first).
 */
function combineApplyErrors(file: string, errors: readonly ApplyFileError[]): ApplyFileError {
  if (errors.length === 1) return errors[0] as ApplyFileError;
  const sorted = [...errors].sort((a, b) => lineOfError(a) - lineOfError(b));
  const first = sorted[0] as ApplyFileError;
  return new ApplyFileError(`${file}: ${sorted.length} errors:\n${sorted.map((e) => `  ${e.message}`).join("\n")}`, {
    file,
    path: first.details?.path ?? "",
    line: first.details?.line ?? null,
    errors: sorted.map((e) => ({ path: e.details?.path ?? "", line: e.details?.line ?? null, message: e.message })),
  });
}

function lineOfError(e: ApplyFileError): number {
  const line = e.details?.line;
  return typeof line === "number" ? line : Number.MAX_SAFE_INTEGER;
}

/** Runs checks, keeping every ApplyFileError they throw instead of stopping at the first. */
export class ErrorCollector {
  readonly errors: ApplyFileError[] = [];
  /** `fn()`, or undefined after recording its ApplyFileError (other errors propagate). */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ApplyFileError)) throw err;
      this.errors.push(err);
      return undefined;
    }
  }
  /** Throw every recorded error as one (see combineApplyErrors); no-op when there is none. */
  throwIfAny(file: string): void {
    if (this.errors.length > 0) throw combineApplyErrors(file, this.errors);
  }
}

/**
 * Parse and validate the structure of an apply file. Environment references are substituted;
 * every error is an ApplyFileError with `{ file, path, line }`.
 */
export function parseApplyFile(text: string, file: string, env: Env = process.env): ParsedApplyFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const parseErrors = doc.errors.map((e) => {
      const line = e.linePos?.[0]?.line;
      // The first line of the message, without the "at line N, column M:" we already print as file:line.
      const col = e.linePos?.[0]?.col;
      const reason = (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, "") + (col ? ` (column ${col})` : "");
      return new ApplyFileError(`${file}${line ? `:${line}` : ""}: cannot parse the file: ${reason}`, { file, path: "", line: line ?? null, yaml: e.code });
    });
    throw combineApplyErrors(file, parseErrors);
  }
  const lineOf = locator(doc, lc);
  const error = (path: readonly PathSegment[], message: string, extra: Record<string, unknown> = {}, opts: { key?: boolean } = {}): ApplyFileError => {
    const line = lineOf(path, opts);
    const p = formatPath(path);
    return new ApplyFileError(`${file}${line ? `:${line}` : ""}: ${p ? `${p}: ` : ""}${message}`, { ...extra, file, path: p, line: line ?? null });
  };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    // The library's message quotes the alias, which may be an unquoted secret: say what to do instead.
    throw error([], "cannot resolve a YAML alias or anchor (a value starting with '*' or '&'); quote such values, for example \"*abc\".");
  }
  if (data === null || data === undefined) data = {};
  // Every problem in the file is reported, not only the first: each check below records its error and goes on.
  const found = new ErrorCollector();
  data = substitute(data, [], env, error, found);

  const checkFields = (obj: Record<string, unknown>, allowed: readonly string[], path: PathSegment[], what: string): void => {
    const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
    if (unknown.length === 0) return;
    const first = unknown[0] as string;
    const hint = unknown.includes("default") && what === "integration" ? ' Did you mean "defaults"?' : "";
    throw error([...path, first], `unknown field(s) ${unknown.map((k) => `"${k}"`).join(", ")} in ${what}; allowed: ${allowed.join(", ")}.${hint}`, { unknown }, { key: true });
  };
  const wrap = <T>(path: PathSegment[], fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ApplyFileError) throw err;
      if (err instanceof BifrostError) throw error(path, err.message, { cause: err.code });
      throw err;
    }
  };
  const list = (value: unknown, path: PathSegment[], what: string): unknown[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw error(path, `must be a list of ${what}.`);
    return value;
  };
  const object = (value: unknown, path: PathSegment[], what: string): Record<string, unknown> => {
    if (!isPlainObject(value)) throw error(path, `must be ${what}.`);
    return value;
  };
  const optionalString = (obj: Record<string, unknown>, field: string, path: PathSegment[]): string | undefined => {
    const v = obj[field];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw error([...path, field], `must be a string; got ${describeValue(v)}.`);
    return v;
  };

  if (!isPlainObject(data)) throw error([], `the file must be a mapping with "organizations" and/or "integrations"; got ${describeValue(data)}.`);
  found.attempt(() => checkFields(data as Record<string, unknown>, TOP_FIELDS, [], "the file (top level)"));

  const organizations: FileOrg[] = [];
  const slugs = new Map<string, number>();
  (found.attempt(() => list((data as Record<string, unknown>).organizations, ["organizations"], "{ slug, name } items")) ?? []).forEach((raw, i) => found.attempt(() => {
    const path: PathSegment[] = ["organizations", i];
    const o = object(raw, path, "an object { slug, name? }");
    checkFields(o, ORG_FIELDS, path, "organization");
    if (o.slug === undefined) throw error(path, `is missing "slug".`);
    const slug = wrap([...path, "slug"], () => checkOrgSlug(o.slug));
    if (slugs.has(slug)) throw error([...path, "slug"], `organization "${slug}" is listed twice (also organizations[${slugs.get(slug)}]).`);
    slugs.set(slug, i);
    const name = optionalString(o, "name", path);
    if (name !== undefined && (name.trim() === "" || name.length > 200)) throw error([...path, "name"], "must be a non-empty string of at most 200 characters.");
    organizations.push({ slug, ...(name === undefined ? {} : { name }), path });
  }));

  const integrations: FileIntegration[] = [];
  const names = new Map<string, number>();
  (found.attempt(() => list((data as Record<string, unknown>).integrations, ["integrations"], "integration items")) ?? []).forEach((raw, i) => found.attempt(() => {
    const path: PathSegment[] = ["integrations", i];
    const o = object(raw, path, "an object { name, description?, config_schema?, defaults?, mappings? }");
    found.attempt(() => checkFields(o, INTEGRATION_FIELDS, path, "integration"));
    if (o.name === undefined) throw error(path, `is missing "name".`);
    const name = wrap([...path, "name"], () => checkIntegrationName(o.name));
    if (names.has(name)) throw error([...path, "name"], `integration "${name}" is listed twice (also integrations[${names.get(name)}]).`);
    names.set(name, i);
    const out: FileIntegration = { name, mappings: [], path };
    // `provider: ID` fills oauth / config_schema / defaults from the catalog; the yaml's own fields win.
    if (o.provider !== undefined) {
      const at: PathSegment[] = [...path, "provider"];
      const entry = (() => {
        try {
          return getProvider(o.provider);
        } catch (err) {
          if (!(err instanceof BifrostError)) throw err;
          throw error(at, err.message, { cause: err.code, suggestions: err.details?.suggestions ?? [] });
        }
      })();
      const filled = (() => {
        try {
          return expandProvider(entry, { oauth: o.oauth as Record<string, unknown> | null | undefined, config_schema: o.config_schema, defaults: o.defaults });
        } catch (err) {
          if (!(err instanceof BifrostError)) throw err;
          const segs = String(err.details?.path ?? "").split(".").filter(Boolean);
          throw error([...path, ...segs], err.message, { cause: err.code, provider: entry.id });
        }
      })();
      for (const [k, v] of Object.entries(filled)) o[k] = v;
    }
    // Each field is checked on its own, so one bad field does not hide the others.
    found.attempt(() => {
    if (o.description !== undefined) {
      if (o.description !== null && typeof o.description !== "string") throw error([...path, "description"], `must be a string; got ${describeValue(o.description)}.`);
      if (typeof o.description === "string" && o.description.length > 2000) throw error([...path, "description"], "must be at most 2000 characters.");
      out.description = o.description === "" ? null : o.description;
    }
    });
    found.attempt(() => {
    if (o.config_schema !== undefined) {
      const schemaPath = [...path, "config_schema"];
      try {
        out.configSchema = parseConfigSchema(o.config_schema === null ? [] : o.config_schema, formatPath(schemaPath));
      } catch (err) {
        if (!(err instanceof BifrostError)) throw err;
        const split = splitServiceMessage(err.message, schemaPath);
        throw error(split.path, split.message, { cause: err.code });
      }
    }
    });
    found.attempt(() => {
    if (o.trusted_origins !== undefined) {
      const base = [...path, "trusted_origins"];
      try {
        out.trustedOrigins = checkTrustedOrigins(o.trusted_origins === null ? [] : o.trusted_origins);
      } catch (err) {
        if (!(err instanceof BifrostError)) throw err;
        // Service messages start with `trusted_origins[i]`; our errors print the path themselves.
        const index = /^trusted_origins\[(\d+)\]/.exec(String(err.details?.path ?? ""))?.[1];
        throw error(index === undefined ? base : [...base, Number(index)], err.message.replace(/^trusted_origins(\[\d+\])?\s*/, ""), { cause: err.code });
      }
    }
    });
    found.attempt(() => {
    if (o.private_network !== undefined) {
      if (typeof o.private_network !== "boolean") throw error([...path, "private_network"], `must be true or false; got ${describeValue(o.private_network)}.`);
      out.privateNetwork = o.private_network;
    }
    });
    found.attempt(() => {
      if (o.defaults !== undefined && o.defaults !== null) out.defaults = object(o.defaults, [...path, "defaults"], "an object of key: value pairs");
    });
    found.attempt(() => {
    if (o.oauth !== undefined) {
      if (o.oauth === null) out.oauth = null;
      else {
        const block = object(o.oauth, [...path, "oauth"], "an OAuth provider block { flow, client_id, client_secret, token_url, … }");
        // Structural check now (a masked secret is judged against the store later, in apply.ts).
        checkOAuthBlock(block, [...path, "oauth"], error);
        out.oauth = block;
      }
    }
    });
    const orgsSeen = new Map<string, number>();
    (found.attempt(() => list(o.mappings, [...path, "mappings"], "{ org, entity_id?, entity_name?, config? } items")) ?? []).forEach((rawM, j) => found.attempt(() => {
      const mp: PathSegment[] = [...path, "mappings", j];
      const m = object(rawM, mp, "an object { org, entity_id?, entity_name?, config? }");
      checkFields(m, MAPPING_FIELDS, mp, "mapping");
      if (m.org === undefined) throw error(mp, `is missing "org" (the organization slug).`);
      const org = wrap([...mp, "org"], () => checkOrgSlug(m.org));
      if (orgsSeen.has(org)) throw error([...mp, "org"], `organization "${org}" is mapped twice for integration "${name}" (also mappings[${orgsSeen.get(org)}]).`);
      orgsSeen.set(org, j);
      const mapping: FileMapping = { org, path: mp };
      for (const [field, prop] of [
        ["entity_id", "entityId"],
        ["entity_name", "entityName"],
      ] as const) {
        const v = m[field];
        if (v === undefined) continue;
        const ok = v === null || (typeof v === "string" && v.length <= 256 && !/[\u0000-\u001f]/.test(v)) || (typeof v === "number" && Number.isSafeInteger(v));
        if (!ok) throw error([...mp, field], `must be a string of at most 256 printable characters (or null); got ${describeValue(v)}.`);
        mapping[prop] = v as string | number | null;
      }
      if (m.config !== undefined && m.config !== null) mapping.config = object(m.config, [...mp, "config"], "an object of key: value pairs");
      out.mappings.push(mapping);
    }));
    integrations.push(out);
  }));

  found.throwIfAny(file);
  return { file, organizations, integrations, lineOf, error };
}

/** Placeholder fingerprint used to validate a block whose masked secret is checked against the store later. */
const STRUCTURE_ONLY = "\u0000structure-check";

/**
 * An OAuthConfigError from the provider parser → an ApplyFileError at `integrations[i].oauth.<field>`.
 * The parser's messages start with `oauth.<field>`; that prefix is replaced by our path + line.
 */
export function oauthErrorAt(err: BifrostError, base: readonly PathSegment[]): { path: PathSegment[]; message: string } {
  const d = err.details ?? {};
  const segs: PathSegment[] = [...base];
  const fromDetails = typeof d.path === "string" && d.path !== "" ? d.path : typeof d.field === "string" ? d.field + (typeof d.param === "string" ? `.${d.param}` : "") : null;
  const fromMessage = /^oauth\.([A-Za-z0-9_.]+?)(?=[:\s]|$)/.exec(err.message)?.[1] ?? null;
  const raw = fromDetails ?? fromMessage;
  if (raw) for (const p of raw.split(".")) segs.push(/^\d+$/.test(p) ? Number(p) : p);
  const message = err.message.replace(/^oauth(\.[A-Za-z0-9_.]+)?:?\s*/, "");
  return { path: segs, message: message || err.message };
}

function checkOAuthBlock(block: Record<string, unknown>, path: PathSegment[], error: (path: readonly PathSegment[], message: string, extra?: Record<string, unknown>) => ApplyFileError): void {
  try {
    parseProviderConfig(block, STRUCTURE_ONLY);
  } catch (err) {
    if (!(err instanceof BifrostError)) throw err;
    const at = oauthErrorAt(err, path);
    throw error(at.path, at.message, { cause: err.code });
  }
}

/**
 * Service messages start with the path we passed (`integrations[0].config_schema[1].type must be …`):
 * split that into path segments and the rest of the message, since our errors print the path themselves.
 */
function splitServiceMessage(message: string, base: PathSegment[]): { path: PathSegment[]; message: string } {
  const prefix = formatPath(base);
  if (!message.startsWith(prefix)) return { path: base, message };
  const token = /^\S+/.exec(message)?.[0] ?? prefix;
  const segs: PathSegment[] = [...base];
  const re = /\[(\d+)\]|\.([A-Za-z_][A-Za-z0-9_]*)/g;
  let m: RegExpExecArray | null;
  const rest = token.slice(prefix.length).replace(/:$/, "");
  while ((m = re.exec(rest)) !== null) segs.push(m[1] !== undefined ? Number(m[1]) : (m[2] as string));
  return { path: segs, message: message.slice(token.length).trimStart() };
}


/** Replace `${NAME}` in every string value (not keys); `$${` stands for a literal `${`. */
function substitute(
  value: unknown,
  path: PathSegment[],
  env: Env,
  error: (path: readonly PathSegment[], message: string, extra?: Record<string, unknown>) => ApplyFileError,
  found: ErrorCollector,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    return found.attempt(() => value.replace(ENV_REF, (_match, name: string | undefined) => {
      if (name === undefined) return "${";
      const v = env[name];
      if (v === undefined) {
        throw error(path, `environment variable ${name} is not set (referenced as \${${name}}). Set it, or write $\${${name}} for a literal "\${${name}}".`, { variable: name });
      }
      return v;
    }));
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, i], env, error, found));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Own data property even for "__proto__", so a file can never touch a prototype.
      Object.defineProperty(out, k, { value: substitute(v, [...path, k], env, error, found), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
