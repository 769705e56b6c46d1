/** The config form's values: how stored values are shown, JSON checks, and the PATCH built from the drafts. */
import { isMasked, type SchemaItem } from "../api/types.js";

/** What the user typed for a key: text, a checkbox state, or null = clear the value. */
export type Draft = string | boolean | null;

export function display(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (isMasked(v)) return `set · ${v.fingerprint}`;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function jsonText(v: unknown): string {
  return v === undefined || v === null ? "" : JSON.stringify(v, null, 2);
}

/** The parse error of a JSON editor's text (null when empty or valid). */
export function jsonError(text: string): string | null {
  if (text.trim() === "") return null;
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    return `Not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The JSON editors' parse errors by key. */
export function jsonErrors(schema: SchemaItem[], drafts: Record<string, Draft>): Record<string, string | null> {
  return Object.fromEntries(schema.filter((i) => i.type === "json" && typeof drafts[i.key] === "string").map((i) => [i.key, jsonError(drafts[i.key] as string)]));
}

/**
 * Only the changed keys: null clears; JSON text is parsed (empty = null); booleans as booleans; an
 * empty non-string field is null; other text is sent as typed (the server coerces int text).
 */
export function configPatch(schema: SchemaItem[], drafts: Record<string, Draft>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const item of schema) {
    if (!(item.key in drafts)) continue;
    const d = drafts[item.key];
    if (d === null) patch[item.key] = null;
    else if (item.type === "json") patch[item.key] = typeof d === "string" && d.trim() !== "" ? JSON.parse(d) : null;
    else if (item.type === "bool") patch[item.key] = d === true;
    else if (typeof d === "string" && d === "" && item.type !== "string") patch[item.key] = null;
    else patch[item.key] = d;
  }
  return patch;
}
