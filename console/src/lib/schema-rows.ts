/** The schema editor's rows: schema ⇄ editable rows, and the checks made while typing (the server checks again on save). */
import type { ConfigType, SchemaItem } from "../api/types.js";

export const CONFIG_TYPES: ConfigType[] = ["string", "int", "bool", "json", "secret"];
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Row {
  key: string;
  type: ConfigType;
  required: boolean;
  description: string;
  /** Comma-separated allowed values, as typed. */
  options: string;
}

export type RowErrors = Partial<Record<keyof Row, string>>;

export const EMPTY_ROW: Row = { key: "", type: "string", required: false, description: "", options: "" };

export function toRows(schema: SchemaItem[]): Row[] {
  return schema.map((s) => ({ key: s.key, type: s.type, required: s.required === true, description: s.description ?? "", options: (s.options ?? []).join(", ") }));
}

/** One error map per row: key required / well-formed / unique, options only for string and int (ints for int). */
export function rowErrors(rows: Row[]): RowErrors[] {
  return rows.map((r, i) => {
    const e: RowErrors = {};
    if (r.key === "") e.key = "A key is required.";
    else if (!KEY_RE.test(r.key)) e.key = "Letters, digits and _ only, not starting with a digit.";
    else if (rows.findIndex((x) => x.key === r.key) !== i) e.key = `"${r.key}" appears twice.`;
    if (r.options.trim() !== "") {
      if (r.type !== "string" && r.type !== "int") e.options = `Options are only allowed for string and int keys.`;
      else if (r.type === "int" && r.options.split(",").some((o) => !/^-?\d+$/.test(o.trim()))) e.options = "Int options must be integers.";
    }
    return e;
  });
}

export function hasErrors(errors: RowErrors[]): boolean {
  return errors.some((e) => Object.keys(e).length > 0);
}

/** Rows → the schema the API takes (empty description / options / required left out; int options as numbers). */
export function toSchema(rows: Row[]): SchemaItem[] {
  return rows.map((r) => {
    const opts = r.options.trim() === "" ? undefined : r.options.split(",").map((o) => o.trim()).filter(Boolean).map((o) => (r.type === "int" ? Number(o) : o));
    return { key: r.key, type: r.type, ...(r.required ? { required: true } : {}), ...(r.description ? { description: r.description } : {}), ...(opts ? { options: opts } : {}) };
  });
}
