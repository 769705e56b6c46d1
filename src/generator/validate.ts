/**
 * Structural validation of an OpenAPI 3.0/3.1 document: what the emitter relies on, each problem
 * reported with the JSON pointer of the offending node. Deliberately lenient about everything the
 * emitter can do without (real-world specs rarely pass strict schema validation).
 */
import { SpecInvalidError } from "./errors.js";
import { isObject, pointerOf, resolvePointer, type JsonObject } from "./pointer.js";

export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const PARAM_IN = new Set(["path", "query", "header", "cookie"]);

function fail(segments: readonly (string | number)[], what: string): never {
  const path = pointerOf(segments);
  throw new SpecInvalidError(`Invalid OpenAPI document at ${path}: ${what}`, { path });
}

export function validateDocument(doc: unknown): asserts doc is JsonObject {
  if (!isObject(doc)) fail([], "the document must be an object.");
  const version = doc.openapi;
  if (typeof version !== "string" || !/^3\.[01]\.\d+/.test(version)) {
    if (doc.swagger !== undefined) fail(["swagger"], `unsupported Swagger version ${JSON.stringify(doc.swagger)} (2.0 is supported).`);
    fail(["openapi"], version === undefined ? "missing \"openapi\" (or \"swagger\": \"2.0\") version field." : `unsupported version ${JSON.stringify(version)}; expected 3.0.x or 3.1.x.`);
  }
  if (!isObject(doc.info)) fail(["info"], "\"info\" must be an object.");
  if (doc.paths !== undefined && !isObject(doc.paths)) fail(["paths"], "\"paths\" must be an object.");
  if (doc.paths === undefined && doc.webhooks === undefined && doc.components === undefined) fail(["paths"], "missing \"paths\".");
  if (doc.components !== undefined && !isObject(doc.components)) fail(["components"], "\"components\" must be an object.");
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [p, item] of Object.entries(paths)) {
    if (p.startsWith("x-")) continue; // specification extension, not a path
    if (!isObject(item)) fail(["paths", p], "a path item must be an object.");
    if (item.$ref !== undefined) continue;
    checkParams(item.parameters, ["paths", p, "parameters"]);
    for (const m of METHODS) {
      const op = item[m];
      if (op === undefined) continue;
      if (!isObject(op)) fail(["paths", p, m], "an operation must be an object.");
      checkParams(op.parameters, ["paths", p, m, "parameters"]);
      if (op.responses !== undefined && !isObject(op.responses)) fail(["paths", p, m, "responses"], "\"responses\" must be an object.");
      if (op.requestBody !== undefined && !isObject(op.requestBody)) fail(["paths", p, m, "requestBody"], "\"requestBody\" must be an object.");
      if (op.operationId !== undefined && typeof op.operationId !== "string") fail(["paths", p, m, "operationId"], "\"operationId\" must be a string.");
    }
  }
  checkRefs(doc);
}

function checkParams(list: unknown, at: (string | number)[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) fail(at, "\"parameters\" must be an array.");
  list.forEach((prm, i) => {
    if (!isObject(prm)) fail([...at, i], "a parameter must be an object.");
    if (typeof prm.$ref === "string") return;
    if (typeof prm.name !== "string") fail([...at, i, "name"], "a parameter needs a string \"name\".");
    if (typeof prm.in !== "string" || !PARAM_IN.has(prm.in)) fail([...at, i, "in"], `"in" must be one of path, query, header, cookie (got ${JSON.stringify(prm.in)}).`);
  });
}

/** Every `$ref` must be local (external ones were bundled) and resolve. */
interface Frame {
  node: unknown;
  parent: Frame | null;
  key: string | number;
}
function framePath(f: Frame): (string | number)[] {
  const out: (string | number)[] = [];
  for (let c: Frame | null = f; c && c.parent; c = c.parent) out.push(c.key);
  return out.reverse();
}
function checkRefs(doc: JsonObject): void {
  const seen = new Map<string, boolean>();
  const stack: Frame[] = [{ node: doc, parent: null, key: "" }];
  while (stack.length > 0) {
    const f = stack.pop() as Frame;
    const node = f.node;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) if (typeof node[i] === "object" && node[i] !== null) stack.push({ node: node[i], parent: f, key: i });
      continue;
    }
    if (!isObject(node)) continue;
    const ref = node.$ref;
    if (typeof ref === "string") {
      if (!ref.startsWith("#")) fail([...framePath(f), "$ref"], `unresolved external reference ${JSON.stringify(ref)}.`);
      let ok = seen.get(ref);
      if (ok === undefined) {
        ok = resolvePointer(doc, ref) !== undefined;
        seen.set(ref, ok);
      }
      if (!ok) fail([...framePath(f), "$ref"], `reference ${JSON.stringify(ref)} does not resolve.`);
    }
    const inProps = f.key === "properties" || f.key === "patternProperties";
    for (const k of Object.keys(node)) {
      if (!inProps && (k === "example" || k === "examples" || k === "enum" || k === "const" || k === "default" || k.startsWith("x-"))) continue;
      const v = node[k];
      if (typeof v === "object" && v !== null) stack.push({ node: v, parent: f, key: k });
    }
  }
}
