/**
 * JSON Schema (OpenAPI 3.0 / 3.1 dialect) → TypeScript type text. Pure string building: no TS compiler API.
 *
 * Named component schemas become `export type X = …` (see emit.ts); everything else is inlined. Direct
 * alias cycles (`A = B`, `B = A | …`, `A = A & …`), which TypeScript rejects, are cut with `unknown`;
 * cycles through object properties or array items are kept (TypeScript defers those).
 */
import { isObject, resolvePointer, type Json, type JsonObject } from "./pointer.js";

export interface SchemaContext {
  doc: JsonObject;
  /** Component schema object → its emitted type name. */
  named: Map<object, string>;
  /** Type names in an immediate-reference cycle, by SCC id. */
  scc: Map<string, number>;
  warn: (message: string) => void;
  /** Discriminator parent schema (no oneOf/anyOf, subtypes `allOf` it) → the name of its own object type (`PetBase`). */
  bases: Map<object, string>;
}

/** Where a type is used: requests leave `readOnly` properties out, responses `writeOnly` ones; null: both kept. */
export type SchemaMode = "request" | "response" | null;

/** Whether a property schema (or the schema its `$ref` names) is `readOnly` / `writeOnly`. */
function propFlag(doc: JsonObject, p: unknown, flag: "readOnly" | "writeOnly"): boolean {
  if (!isObject(p)) return false;
  if (p[flag] === true) return true;
  const t = typeof p.$ref === "string" ? resolvePointer(doc, p.$ref) : undefined;
  return isObject(t) && t[flag] === true;
}

export function docComment(text: string | undefined, indent: string, extra: string[] = []): string {
  const lines: string[] = [];
  if (text && text.trim()) lines.push(...text.trim().split(/\r?\n/));
  lines.push(...extra);
  if (lines.length === 0) return "";
  const esc = lines.map((l) => l.replace(/\*\//g, "*\\/").replace(/\s+$/, ""));
  if (esc.length === 1) return `${indent}/** ${esc[0]} */\n`;
  return `${indent}/**\n${esc.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)).join("\n")}\n${indent} */\n`;
}

const SIMPLE = /^(?:[A-Za-z_$][A-Za-z0-9_$]*|"(?:[^"\\]|\\.)*"|-?[0-9.e+]+)(?:\[\])*$/;
function wrap(t: string): string {
  return SIMPLE.test(t) || (t.startsWith("{") && t.endsWith("}") && !t.includes("} &") && !t.includes("} |")) ? t : `(${t})`;
}

function literal(v: Json): string | null {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : null;
  if (typeof v === "boolean") return String(v);
  return null;
}

function union(parts: string[]): string {
  const uniq = [...new Set(parts)];
  if (uniq.length === 0) return "never";
  if (uniq.includes("unknown")) return "unknown";
  return uniq.length === 1 ? (uniq[0] as string) : uniq.map(wrap).join(" | ");
}

function intersection(parts: string[]): string {
  const uniq = [...new Set(parts.filter((p) => p !== "unknown"))];
  if (uniq.length === 0) return "unknown";
  return uniq.length === 1 ? (uniq[0] as string) : uniq.map(wrap).join(" & ");
}

/** Emits type text for schemas, tracking the component being emitted (for cycle cuts). */
export class SchemaEmitter {
  private current: string | null = null;
  private mode: SchemaMode = null;
  private readonly inlining = new Set<string>();
  /** Include property descriptions as doc comments. */
  docs = true;
  /** Type name → the names of its request / response variants (only types that differ in that position). */
  readonly variants = new Map<string, { request?: string; response?: string }>();

  constructor(readonly ctx: SchemaContext) {}

  /** Type text for a named component's body (`mode`: its request or response variant). */
  component(name: string, schema: unknown, mode: SchemaMode = null): string {
    this.current = name;
    this.mode = mode;
    try {
      return this.type(schema, true, "");
    } finally {
      this.current = null;
      this.mode = null;
    }
  }

  /** Type text for an inline schema (operation params, bodies, responses). */
  inline(schema: unknown, indent = "", mode: SchemaMode = null): string {
    this.current = null;
    this.mode = mode;
    try {
      return this.type(schema, false, indent);
    } finally {
      this.mode = null;
    }
  }

  /** `name`, or its variant for the current mode. */
  nameFor(name: string, mode: SchemaMode = this.mode): string {
    return (mode && this.variants.get(name)?.[mode]) ?? name;
  }

  /** Follow `$ref`s to a component schema name or the target object. */
  private refType(ref: string, immediate: boolean, indent: string, inAllOf = false): string {
    const target = resolvePointer(this.ctx.doc, ref);
    if (target === undefined) {
      this.ctx.warn(`unresolved $ref ${ref}; typed as unknown`);
      return "unknown";
    }
    if (isObject(target)) {
      const name = (inAllOf && this.ctx.bases.get(target)) || this.ctx.named.get(target);
      if (name !== undefined) {
        if (immediate && this.current !== null) {
          const a = this.ctx.scc.get(this.current);
          if (a !== undefined && a === this.ctx.scc.get(name)) return "unknown";
        }
        return this.nameFor(name);
      }
    }
    if (this.inlining.has(ref)) return "unknown";
    this.inlining.add(ref);
    try {
      return this.type(target, immediate, indent);
    } finally {
      this.inlining.delete(ref);
    }
  }

  type(schema: unknown, immediate: boolean, indent: string, inAllOf = false): string {
    if (schema === true || schema === undefined) return "unknown";
    if (schema === false) return "never";
    if (!isObject(schema)) return "unknown";
    const s = schema;
    const nullable = s.nullable === true || (Array.isArray(s.type) && s.type.includes("null"));
    if (typeof s.$ref === "string") {
      // An allOf member naming a discriminator parent extends its own object type, not the union of its subtypes.
      const t = this.refType(s.$ref, immediate, indent, inAllOf);
      return nullable && t !== "unknown" ? union([t, "null"]) : t;
    }
    const parts: string[] = [];
    const composed = Array.isArray(s.allOf) || Array.isArray(s.oneOf) || Array.isArray(s.anyOf);
    const core = this.core(s, immediate, indent, composed);
    if (core !== null) parts.push(core);
    if (Array.isArray(s.allOf)) for (const m of s.allOf) parts.push(this.type(m, immediate, indent, true));
    for (const key of ["oneOf", "anyOf"] as const) {
      const list = s[key];
      if (Array.isArray(list) && list.length > 0) parts.push(this.alternatives(s, list, immediate, indent));
    }
    let t = intersection(parts);
    if (nullable && t !== "unknown" && t !== "null") t = union([t, "null"]);
    return t;
  }

  private alternatives(s: JsonObject, list: Json[], immediate: boolean, indent: string): string {
    const disc = isObject(s.discriminator) && typeof s.discriminator.propertyName === "string" ? s.discriminator : null;
    const out: string[] = [];
    for (const m of list) {
      const t = this.type(m, immediate, indent);
      if (disc && isObject(m) && typeof m.$ref === "string" && t !== "unknown") {
        const values = discriminatorValues(disc, m.$ref);
        out.push(`{ ${propKeyOf(disc.propertyName as string)}: ${values.map((v) => JSON.stringify(v)).join(" | ")} } & ${wrap(t)}`);
      } else out.push(t);
    }
    return union(out);
  }

  /** The schema's own type (type/enum/const/properties/items), or null when only composition defines it. */
  private core(s: JsonObject, immediate: boolean, indent: string, composed: boolean): string | null {
    if (s.const !== undefined) return literal(s.const) ?? "unknown";
    if (Array.isArray(s.enum)) {
      const lits = s.enum.map(literal);
      if (lits.length > 0 && lits.every((l) => l !== null)) return union(lits as string[]);
      if (lits.length > 0) return "unknown";
    }
    const types = Array.isArray(s.type) ? s.type.filter((x): x is string => typeof x === "string") : typeof s.type === "string" ? [s.type] : [];
    const objectish = s.properties !== undefined || s.additionalProperties !== undefined || s.patternProperties !== undefined;
    if (types.length === 0) {
      if (objectish) return this.object(s, indent, composed);
      if (s.items !== undefined || s.prefixItems !== undefined) return this.array(s, indent);
      return composed ? null : "unknown";
    }
    const out: string[] = [];
    for (const t of types) {
      switch (t) {
        case "string":
          // A file: received as a Blob; sent as a Blob / File or bytes.
          out.push(s.format === "binary" ? (this.mode === "request" ? "$File" : "Blob") : "string");
          break;
        case "integer":
        case "number":
          out.push("number");
          break;
        case "boolean":
          out.push("boolean");
          break;
        case "null":
          out.push("null");
          break;
        case "array":
          out.push(this.array(s, indent));
          break;
        case "object": {
          const o = this.object(s, indent, composed);
          if (o !== null) out.push(o);
          else if (types.length > 1) out.push("{ [key: string]: unknown }");
          break;
        }
        default:
          out.push("unknown");
      }
    }
    if (out.length === 0) return null;
    void immediate;
    return union(out);
  }

  private array(s: JsonObject, indent: string): string {
    if (Array.isArray(s.prefixItems)) {
      const els = s.prefixItems.map((p) => this.type(p, false, indent));
      const rest = s.items === false ? "" : `, ...${wrap(this.type(s.items ?? true, false, indent))}[]`;
      return `[${els.join(", ")}${rest}]`;
    }
    const item = Array.isArray(s.items) ? union(s.items.map((i) => this.type(i, false, indent))) : this.type(s.items ?? true, false, indent);
    return `${wrap(item)}[]`;
  }

  /** Object type literal; null for a bare `type: object` next to allOf/oneOf/anyOf (the members say it all). */
  private object(s: JsonObject, indent: string, composed: boolean): string | null {
    const props = isObject(s.properties) ? s.properties : {};
    const all = Object.keys(props);
    // readOnly properties are not sent, writeOnly ones not returned.
    const skip = this.mode === "request" ? "readOnly" : this.mode === "response" ? "writeOnly" : null;
    const keys = skip ? all.filter((k) => !propFlag(this.ctx.doc, props[k], skip)) : all;
    const required = new Set(Array.isArray(s.required) ? s.required.filter((x): x is string => typeof x === "string") : []);
    const ap = s.additionalProperties;
    const pp = isObject(s.patternProperties) ? Object.values(s.patternProperties) : [];
    if (all.length === 0 && composed && ap === undefined && pp.length === 0) return null;
    const inner = `${indent}  `;
    const lines: string[] = [];
    for (const k of keys) {
      const p = props[k];
      if (this.docs && isObject(p)) {
        const extra: string[] = [];
        if (p.deprecated === true) extra.push("@deprecated");
        const d = typeof p.description === "string" ? p.description : undefined;
        const c = docComment(d, inner, extra);
        if (c) lines.push(c.slice(0, -1));
      }
      lines.push(`${inner}${propKeyOf(k)}${required.has(k) ? "" : "?"}: ${this.type(p, false, inner)};`);
    }
    let index: string | null = null;
    if (ap === true || (isObject(ap) && Object.keys(ap).length === 0) || (ap === undefined && all.length === 0 && pp.length === 0)) index = "unknown";
    else if (isObject(ap) || pp.length > 0) {
      const ts = [...(isObject(ap) ? [this.type(ap, false, inner)] : []), ...pp.map((x) => this.type(x, false, inner))];
      index = union(ts);
    }
    if (index !== null && (keys.length === 0 || index === "unknown")) lines.push(`${inner}[key: string]: ${index};`);
    const body = lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
    if (index !== null && keys.length > 0 && index !== "unknown") return `${body} & { [key: string]: ${index} }`;
    if (lines.length === 0) return all.length > 0 ? "{}" : "{ [key: string]: never }";
    return body;
  }
}

function propKeyOf(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

export function discriminatorValues(disc: JsonObject, ref: string): string[] {
  const out: string[] = [];
  if (isObject(disc.mapping)) {
    for (const [value, target] of Object.entries(disc.mapping)) {
      if (target === ref || target === ref.slice(ref.lastIndexOf("/") + 1)) out.push(value);
    }
  }
  if (out.length === 0) out.push(decodeURIComponent(ref.slice(ref.lastIndexOf("/") + 1)).replace(/~1/g, "/").replace(/~0/g, "~"));
  return out;
}

/** Component names each schema references without an object/array in between (for cycle cuts). */
export function immediateRefs(ctx: SchemaContext, schema: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (s: unknown, inAllOf = false): void => {
    if (!isObject(s) || seen.has(s)) return;
    seen.add(s);
    if (typeof s.$ref === "string") {
      const target = resolvePointer(ctx.doc, s.$ref);
      if (isObject(target)) {
        const name = (inAllOf && ctx.bases.get(target)) || ctx.named.get(target);
        if (name !== undefined) out.push(name);
        else walk(target);
      }
      return;
    }
    for (const k of ["allOf", "oneOf", "anyOf"] as const) {
      const list = s[k];
      if (Array.isArray(list)) for (const m of list) walk(m, k === "allOf");
    }
  };
  walk(schema);
  return out;
}

/** Tarjan SCC over the immediate-reference graph; only cyclic components (size > 1 or self-loop) are returned. */
export function cyclicComponents(graph: Map<string, string[]>): Map<string, number> {
  let index = 0;
  let sccId = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result = new Map<string, number>();
  const strong = (v: string): void => {
    // Iterative to survive deep graphs.
    const work: Array<{ v: string; i: number }> = [{ v, i: 0 }];
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    while (work.length > 0) {
      const top = work[work.length - 1] as { v: string; i: number };
      const edges = graph.get(top.v) ?? [];
      if (top.i < edges.length) {
        const w = edges[top.i++] as string;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v) as number, idx.get(w) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v) as number, low.get(top.v) as number));
      if (low.get(top.v) === idx.get(top.v)) {
        const members: string[] = [];
        for (;;) {
          const w = stack.pop() as string;
          onStack.delete(w);
          members.push(w);
          if (w === top.v) break;
        }
        const selfLoop = members.length === 1 && (graph.get(top.v) ?? []).includes(top.v);
        if (members.length > 1 || selfLoop) {
          for (const m of members) result.set(m, sccId);
          sccId++;
        }
      }
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return result;
}

/**
 * What decides whether a named type needs request / response variants: whether it has `readOnly` /
 * `writeOnly` properties or binary strings of its own, and the named types it refers to (anywhere).
 */
export function typeDeps(ctx: SchemaContext, schema: unknown): { readOnly: boolean; writeOnly: boolean; binary: boolean; refs: string[] } {
  const out = { readOnly: false, writeOnly: false, binary: false, refs: [] as string[] };
  const seen = new Set<unknown>();
  const walk = (s: unknown, inAllOf = false): void => {
    if (!isObject(s) || seen.has(s)) return;
    seen.add(s);
    if (typeof s.$ref === "string") {
      const target = resolvePointer(ctx.doc, s.$ref);
      if (!isObject(target)) return;
      const name = (inAllOf && ctx.bases.get(target)) || ctx.named.get(target);
      if (name !== undefined) out.refs.push(name);
      else walk(target);
      return;
    }
    if (s.format === "binary") out.binary = true;
    if (isObject(s.properties)) {
      for (const p of Object.values(s.properties)) {
        if (propFlag(ctx.doc, p, "readOnly")) out.readOnly = true;
        if (propFlag(ctx.doc, p, "writeOnly")) out.writeOnly = true;
        walk(p);
      }
    }
    for (const k of ["items", "additionalProperties", "not"] as const) walk(s[k]);
    for (const k of ["allOf", "oneOf", "anyOf", "prefixItems", "items"] as const) {
      const list = s[k];
      if (Array.isArray(list)) for (const m of list) walk(m, k === "allOf");
    }
    if (isObject(s.patternProperties)) for (const p of Object.values(s.patternProperties)) walk(p);
  };
  walk(schema);
  return out;
}
