/** Bulk mapping text: `org,entity_id,entity_name` lines → rows, and entity suggestions → accepted lines. */
import { type OrgLike, parseEntities, type Suggestion, suggestAll } from "../match.js";

export interface BulkRow {
  org: string;
  entity_id: string | null;
  entity_name: string | null;
  /** 1-based line number in the text. */
  line: number;
}

/** Non-empty lines as rows (an `org,…` header on the first line is skipped; commas after the second belong to the name). */
export function parseBulk(text: string): BulkRow[] {
  const out: BulkRow[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || (i === 0 && /^org\s*,/i.test(line))) continue;
    const [org = "", id = "", ...name] = line.split(",");
    out.push({ org: org.trim(), entity_id: id.trim() || null, entity_name: name.join(",").trim() || null, line: i + 1 });
  }
  return out;
}

/** `text` with `lines` appended, each on its own line, ending with a newline. */
export function appendLines(text: string, lines: string[]): string {
  return `${text}${text && !text.endsWith("\n") ? "\n" : ""}${lines.join("\n")}\n`;
}

export interface Proposal {
  entity_id: string | null;
  entity_name: string | null;
  line: number;
  suggestion: Suggestion;
  /** The chosen org slug ("" = none). */
  org: string;
  accepted: boolean;
}

/** Below this confidence a suggestion starts unticked. */
export const AUTO_ACCEPT = 0.8;

/** One proposal per pasted `entity_id,entity_name` line: the suggested org, ticked when confident. */
export function propose(text: string, orgs: readonly OrgLike[]): Proposal[] {
  const entities = parseEntities(text);
  const suggestions = suggestAll(entities, orgs);
  return entities.map((e, i) => {
    const s = suggestions[i] ?? { org: null, confidence: 0, kind: "none" as const };
    return { ...e, suggestion: s, org: s.org ?? "", accepted: s.org !== null && s.confidence >= AUTO_ACCEPT };
  });
}

/** The accepted proposals as bulk lines `org,entity_id,entity_name`. */
export function acceptedLines(proposals: readonly Proposal[]): string[] {
  return proposals.filter((p) => p.accepted && p.org !== "").map((p) => `${p.org},${p.entity_id ?? ""},${p.entity_name ?? ""}`);
}
