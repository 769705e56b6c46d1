/**
 * Schema → example value, for the conformance harness (`npm run conformance`): the arguments of a
 * generated client call built from the operation's parameter and request body schemas, so an
 * independent validator (Prism) can judge what the client puts on the wire.
 *
 * Works on the generator's loaded document (OpenAPI 3.x; Swagger 2.0 already converted). Values are
 * deterministic: the same schema always gives the same value. Request context: `readOnly` properties
 * are left out, `writeOnly` ones are kept; optional properties are filled down to `optionalDepth`.
 */
type Schema = Record<string, unknown>;

export interface ExampleOptions {
  /** Object nesting depth down to which optional properties are filled too (default 2). */
  optionalDepth?: number;
  /** How binary strings are built: `Blob` for multipart parts, `Uint8Array` for whole bodies. */
  binary?: "blob" | "bytes";
}

const MAX_DEPTH = 8;

/** The target of a local `$ref` (`#/components/...`), or undefined. */
function resolveRef(doc: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Schema)[part];
  }
  return typeof node === "object" && node !== null ? (node as Schema) : undefined;
}

/** Follow `$ref`s until a schema without one. */
export function deref(doc: Schema, schema: unknown, seen: ReadonlySet<string> = new Set()): { schema: Schema; refs: Set<string>; cycle?: true } {
  const refs = new Set(seen);
  let s = (typeof schema === "object" && schema !== null ? schema : {}) as Schema;
  while (typeof s.$ref === "string") {
    if (refs.has(s.$ref)) return { schema: {}, refs, cycle: true };
    refs.add(s.$ref);
    s = resolveRef(doc, s.$ref) ?? {};
  }
  return { schema: s, refs };
}

const FORMATS: Record<string, string> = {
  "date-time": "2024-01-02T03:04:05Z",
  date: "2024-01-02",
  time: "03:04:05Z",
  email: "user@example.com",
  "idn-email": "user@example.com",
  uuid: "123e4567-e89b-12d3-a456-426614174000",
  uri: "https://example.com/item",
  url: "https://example.com/item",
  "uri-reference": "https://example.com/item",
  iri: "https://example.com/item",
  hostname: "example.com",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
  byte: "aGVsbG8=",
  password: "pa55word",
  duration: "P1D",
  regex: "^a$",
  "json-pointer": "/a",
};

/** A string matching a (simple) regular expression: literals, classes, escapes, groups, alternation, quantifiers. */
export function stringForPattern(pattern: string): string | undefined {
  let i = 0;
  const src = pattern;
  const classChar = (body: string): string => {
    const negated = body.startsWith("^");
    const b = negated ? body.slice(1) : body;
    if (negated) {
      for (const c of "aA0_-") if (!b.includes(c) && !(b.includes("a-z") && c === "a") && !(b.includes("A-Z") && c === "A") && !(b.includes("0-9") && c === "0") && !(b.includes("\\d") && c === "0") && !(b.includes("\\w") && /\w/.test(c))) return c;
      return "~";
    }
    if (b.startsWith("\\d")) return "1";
    if (b.startsWith("\\w")) return "a";
    if (b.startsWith("\\s")) return " ";
    if (b.startsWith("\\")) return b[1] ?? "a";
    return b[0] ?? "a";
  };
  const seq = (): string | undefined => {
    let out = "";
    while (i < src.length && src[i] !== ")" && src[i] !== "|") {
      const c = src[i] as string;
      let atom: string | undefined;
      if (c === "^" || c === "$") {
        i++;
        continue;
      }
      if (c === "(") {
        i++;
        if (src.startsWith("?:", i)) i += 2;
        else if (src[i] === "?") return undefined; // lookarounds, named groups: too clever for this
        atom = alt();
        if (src[i] !== ")") return undefined;
        i++;
      } else if (c === "[") {
        const end = src.indexOf("]", i + 2);
        if (end < 0) return undefined;
        atom = classChar(src.slice(i + 1, end));
        i = end + 1;
      } else if (c === "\\") {
        const e = src[i + 1] ?? "";
        atom = e === "d" ? "1" : e === "w" ? "a" : e === "s" ? " " : /[DWSbB]/.test(e) ? undefined : e;
        if (atom === undefined) return undefined;
        i += 2;
      } else if (c === ".") {
        atom = "a";
        i++;
      } else {
        atom = c;
        i++;
      }
      if (atom === undefined) return undefined;
      // How many times: `?` none, `*` and `+` once, `{n,m}` n times (at least once when m allows).
      let times = 1;
      const q = src[i];
      if (q === "?") {
        times = 0;
        i++;
      } else if (q === "*" || q === "+") {
        i++;
      } else if (q === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (!m) return undefined;
        const max = m[2] === undefined ? Number(m[1]) : m[3] === "" ? Infinity : Number(m[3]);
        times = Math.max(Number(m[1]), Math.min(1, max));
        i += m[0].length;
      }
      if (src[i] === "?") i++; // lazy quantifier
      out += atom.repeat(times);
    }
    return out;
  };
  const alt = (): string | undefined => {
    const first = seq();
    while (src[i] === "|") {
      i++;
      seq();
    }
    return first;
  };
  const out = alt();
  if (out === undefined || i !== src.length) return undefined;
  try {
    return new RegExp(pattern, "u").test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

function matches(pattern: unknown, s: string): boolean {
  if (typeof pattern !== "string") return true;
  try {
    return new RegExp(pattern, "u").test(s);
  } catch {
    return true;
  }
}

function exampleString(s: Schema, opts: ExampleOptions): unknown {
  if (s.format === "binary") {
    const bytes = new TextEncoder().encode("conformance file");
    return opts.binary === "bytes" ? bytes : new Blob([bytes], { type: "application/octet-stream" });
  }
  const candidates: unknown[] = [s.example, Array.isArray(s.examples) ? s.examples[0] : undefined, s.default];
  for (const c of candidates) {
    if (typeof c === "string" && matches(s.pattern, c) && fitsLength(s, c)) return c;
  }
  let v = typeof s.format === "string" && FORMATS[s.format] !== undefined ? (FORMATS[s.format] as string) : "example";
  if (typeof s.pattern === "string" && !matches(s.pattern, v)) v = stringForPattern(s.pattern) ?? v;
  const min = typeof s.minLength === "number" ? s.minLength : 0;
  const max = typeof s.maxLength === "number" ? s.maxLength : Infinity;
  if (v.length < min) v = v + "x".repeat(min - v.length);
  if (v.length > max) v = v.slice(0, max);
  return v;
}

function fitsLength(s: Schema, v: string): boolean {
  return (typeof s.minLength !== "number" || v.length >= s.minLength) && (typeof s.maxLength !== "number" || v.length <= s.maxLength);
}

function exampleNumber(s: Schema, integer: boolean): number {
  const c = [s.example, Array.isArray(s.examples) ? s.examples[0] : undefined, s.default].find((x) => typeof x === "number" && (!integer || Number.isInteger(x)));
  const step = typeof s.multipleOf === "number" && s.multipleOf > 0 ? s.multipleOf : integer ? 1 : 0;
  let lo = typeof s.minimum === "number" ? s.minimum : -Infinity;
  let hi = typeof s.maximum === "number" ? s.maximum : Infinity;
  // 3.1: exclusiveMinimum/Maximum are numbers; 3.0: booleans beside minimum/maximum.
  if (typeof s.exclusiveMinimum === "number") lo = Math.max(lo, s.exclusiveMinimum + (step || 0.5));
  else if (s.exclusiveMinimum === true) lo += step || 0.5;
  if (typeof s.exclusiveMaximum === "number") hi = Math.min(hi, s.exclusiveMaximum - (step || 0.5));
  else if (s.exclusiveMaximum === true) hi -= step || 0.5;
  const ok = (n: number) => n >= lo && n <= hi && (!step || Math.abs(n / step - Math.round(n / step)) < 1e-9);
  if (typeof c === "number" && ok(c)) return c;
  let n = Number.isFinite(lo) ? lo : Number.isFinite(hi) ? Math.min(hi, 1) : 1;
  if (step) n = Math.ceil(n / step - 1e-9) * step;
  if (n > hi && step) n = Math.floor(hi / step) * step;
  return integer ? Math.round(n) : n;
}

function typeOf(s: Schema): string | undefined {
  if (Array.isArray(s.type)) return (s.type as string[]).find((t) => t !== "null");
  if (typeof s.type === "string") return s.type;
  if (s.properties || s.additionalProperties) return "object";
  if (s.items) return "array";
  return undefined;
}

/**
 * An example value for `schema` in a request (`undefined` only for a cycle that cannot be broken).
 * `depth` is the object nesting level; `refs` the `$ref`s on the current path (cycle guard).
 */
export function exampleValue(doc: Schema, schema: unknown, opts: ExampleOptions = {}, depth = 0, refs: ReadonlySet<string> = new Set()): unknown {
  const { schema: s, refs: seen, cycle } = deref(doc, schema, refs);
  // A schema already on the path (a tree's children): stop here; the caller leaves it out or uses {}.
  if (cycle || depth > MAX_DEPTH) return undefined;
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum.find((e) => e !== null) ?? s.enum[0];
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const parts = s.allOf.map((sub) => exampleValue(doc, sub, opts, depth, seen));
    const { allOf: _a, ...rest } = s;
    const own = Object.keys(rest).some((k) => k === "properties" || k === "type") ? exampleValue(doc, rest, opts, depth, seen) : undefined;
    const all = [...parts, own].filter((p) => p !== undefined);
    if (all.length > 0 && all.every((p) => typeof p === "object" && p !== null && !Array.isArray(p))) return Object.assign({}, ...all);
    return all[0];
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = s[key];
    if (Array.isArray(options) && options.length > 0) {
      const pick = options.find((o) => deref(doc, o, seen).schema.type !== "null") ?? options[0];
      const v = exampleValue(doc, pick, opts, depth, seen);
      const disc = (s.discriminator as { propertyName?: string; mapping?: Record<string, string> } | undefined) ?? undefined;
      if (disc?.propertyName && typeof v === "object" && v !== null && !Array.isArray(v) && typeof (pick as Schema).$ref === "string") {
        const ref = (pick as Schema).$ref as string;
        const tag = Object.entries(disc.mapping ?? {}).find(([, r]) => r === ref)?.[0] ?? ref.split("/").pop();
        if (tag !== undefined) (v as Record<string, unknown>)[disc.propertyName] = tag;
      }
      return v;
    }
  }
  switch (typeOf(s)) {
    case "string":
      return exampleString(s, opts);
    case "integer":
      return exampleNumber(s, true);
    case "number":
      return exampleNumber(s, false);
    case "boolean":
      return typeof s.default === "boolean" ? s.default : true;
    case "array": {
      const item = exampleValue(doc, s.items ?? {}, opts, depth + 1, seen);
      const n = Math.max(1, typeof s.minItems === "number" ? s.minItems : 1);
      if (item === undefined) return [];
      if (s.uniqueItems === true && n > 1 && typeof item === "number") return Array.from({ length: n }, (_, k) => item + k);
      return Array.from({ length: typeof s.maxItems === "number" ? Math.min(n, s.maxItems) : n }, () => item);
    }
    case "object": {
      const out: Record<string, unknown> = {};
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      const props = (s.properties ?? {}) as Record<string, unknown>;
      for (const [name, sub] of Object.entries(props)) {
        const p = deref(doc, sub, seen).schema;
        if (p.readOnly === true) continue;
        if (!required.has(name) && (depth >= (opts.optionalDepth ?? 2) || p.deprecated === true)) continue;
        const v = exampleValue(doc, sub, opts, depth + 1, seen);
        if (v !== undefined) out[name] = v;
        else if (required.has(name)) out[name] = {};
      }
      if (Object.keys(props).length === 0 && typeof s.additionalProperties === "object" && s.additionalProperties !== null) {
        const v = exampleValue(doc, s.additionalProperties, opts, depth + 1, seen);
        if (v !== undefined) out.key = v;
      }
      return out;
    }
    default: {
      const c = s.example ?? s.default;
      return c !== undefined ? c : "example";
    }
  }
}
