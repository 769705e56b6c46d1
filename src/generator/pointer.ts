/** JSON pointers (RFC 6901) over the loaded document. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapeToken(t: string): string {
  return t.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** "#/paths/~1pets/get" from path segments. */
export function pointerOf(segments: readonly (string | number)[]): string {
  return `#/${segments.map((s) => escapeToken(String(s))).join("/")}`;
}

/** Resolve a local `#/…` pointer; undefined when it does not resolve. */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === "#" || ref === "#/") return root;
  if (!ref.startsWith("#/")) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    let tok = raw;
    if (tok.includes("%")) {
      try {
        tok = decodeURIComponent(tok);
      } catch {
        /* keep raw */
      }
    }
    tok = tok.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) cur = cur[Number(tok)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, tok) ? cur[tok] : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}
