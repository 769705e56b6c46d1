/** Identifier helpers: valid, readable, collision-free TypeScript names from arbitrary spec strings. */

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "implements interface let package private protected public static yield await async of arguments eval undefined NaN Infinity"
  ).split(" "),
);

/**
 * Global type names a schema must not shadow (the emitted module and user code rely on them), plus
 * TypeScript's predefined type names.
 */
const RESERVED_TYPES = new Set(
  (
    "Array ArrayBuffer AsyncIterable AsyncIterableIterator Awaited BigInt Blob Boolean DataView Date Error Exclude Extract File FormData Function Headers Iterable " +
    "JSON Map Math NonNullable Number Object Omit Parameters Partial Pick Promise PromiseLike Readonly ReadonlyArray ReadableStream Record RegExp Request RequestInit Required " +
    "Response ReturnType Set String Symbol Uint8Array URL URLSearchParams WeakMap WeakSet Any Unknown Never Void Null Undefined Infinity NaN"
  ).split(" "),
);

/** Split into words on non-alphanumerics and lower→upper case boundaries. */
export function words(input: string): string[] {
  const out: string[] = [];
  for (const chunk of input.split(/[^A-Za-z0-9]+/)) {
    if (!chunk) continue;
    // "getHTTPResponse2XX" → get, HTTP, Response2XX
    const parts = chunk.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+|[A-Z]/g);
    if (parts) out.push(...parts);
  }
  return out;
}

function cap(w: string): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** "simple-user" → "SimpleUser"; keeps inner capitals ("getHTTPThing" → "GetHTTPThing"). */
export function pascalCase(input: string): string {
  const ws = words(input);
  let s = ws.map(cap).join("");
  if (!s) s = "Unnamed";
  if (/^[0-9]/.test(s)) s = `T${s}`;
  return s;
}

/** "repos/list-for-org" → "reposListForOrg"; "GetAccount" → "getAccount"; "URLShorten" → "urlShorten". */
export function camelCase(input: string): string {
  const ws = words(input);
  if (ws.length === 0) return "op";
  const [first, ...rest] = ws as [string, ...string[]];
  const head = /^[A-Z]+$/.test(first) ? first.toLowerCase() : first.charAt(0).toLowerCase() + first.slice(1);
  let s = head + rest.map(cap).join("");
  if (/^[0-9]/.test(s)) s = `op${s}`;
  return s;
}

export function snakeCase(input: string): string {
  const s = words(input)
    .map((w) => w.toLowerCase())
    .join("_");
  return /^[a-z_]/.test(s) ? s : `k_${s}`;
}

export function safeValueName(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}

export function safeTypeName(name: string): string {
  return RESERVED_TYPES.has(name) ? `${name}Schema` : name;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** An object key in emitted code: bare when it is an identifier, else a string literal. */
export function propKey(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

/** Hands out unique names: the first claimant keeps the name, later ones get 2, 3, …. */
export class NameAllocator {
  private readonly used = new Set<string>();
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  has(name: string): boolean {
    return this.used.has(name);
  }
  claim(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}${i}`;
    this.used.add(name);
    return name;
  }
}

/** Normalise and validate a module name; returns null when it cannot be made valid. */
export const MODULE_NAME = /^[a-z][a-z0-9_]*$/;
