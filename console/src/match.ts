/**
 * Entity → organization suggestions for bulk mapping (pure functions, no DOM: unit-tested by vitest).
 *
 * 1. Exact: the entity name equals an org's name or slug, case-insensitively (confidence 1).
 * 2. Otherwise a similarity score in [0, 1]: the larger of
 *    - token overlap (Dice coefficient over normalized words, legal suffixes like "Inc" / "Ltd" dropped),
 *    - character-bigram Dice over the letters and digits only (catches "GlobexCorp" vs "Globex Corp"),
 *    compared with both the org name and its slug (dashes/underscores read as spaces).
 *    Scores under MIN_CONFIDENCE give no suggestion.
 * 3. `suggestAll` assigns each org at most once (best scores first), so two entities never get the same org;
 *    it scores each entity against each org once, so 1,000 pasted names against 1,000 orgs stay interactive.
 */

export interface OrgLike {
  slug: string;
  name: string;
}

export interface EntityRow {
  entity_id: string | null;
  entity_name: string | null;
  /** 1-based line in the pasted text. */
  line: number;
}

export interface Suggestion {
  org: string | null;
  /** 0..1; 1 = exact (case-insensitive) match of name or slug. */
  confidence: number;
  kind: "exact" | "similar" | "none";
}

export const MIN_CONFIDENCE = 0.45;

/** Legal-form and filler words that say nothing about which company it is. */
const STOPWORDS = new Set(["inc", "incorporated", "ltd", "limited", "llc", "llp", "corp", "corporation", "co", "company", "gmbh", "ag", "sa", "sas", "sarl", "bv", "nv", "plc", "pty", "the", "and", "of", "group"]);

/** Lowercase, accents removed, everything but letters and digits turned into single spaces. */
export function normalize(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

function tokens(s: string): string[] {
  const all = normalize(s).split(" ").filter(Boolean);
  const meaningful = all.filter((t) => !STOPWORDS.has(t));
  return meaningful.length > 0 ? meaningful : all;
}

function dice<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const counts = new Map<T, number>();
  for (const x of a) counts.set(x, (counts.get(x) ?? 0) + 1);
  let common = 0;
  for (const x of b) {
    const n = counts.get(x) ?? 0;
    if (n > 0) {
      common++;
      counts.set(x, n - 1);
    }
  }
  return (2 * common) / (a.length + b.length);
}

function bigrams(s: string): string[] {
  const compact = tokens(s).join("");
  if (compact.length < 2) return compact ? [compact] : [];
  const out: string[] = [];
  for (let i = 0; i < compact.length - 1; i++) out.push(compact.slice(i, i + 2));
  return out;
}

/** Similarity of two names in [0, 1] (1 = same words after normalization). */
export function similarity(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.length === 0 || tb.length === 0) return 0;
  if (ta.join(" ") === tb.join(" ")) return 0.95;
  return Math.max(dice(ta, tb), dice(bigrams(a), bigrams(b)) * 0.9);
}

/** How close an entity name is to an org: its name or its slug (dashes/underscores read as spaces). */
function score(name: string, o: OrgLike): number {
  return Math.max(similarity(name, o.name), similarity(name, o.slug.replace(/[-_]+/g, " ")));
}

function isExact(lowerName: string, o: OrgLike): boolean {
  return o.name.trim().toLowerCase() === lowerName || o.slug.toLowerCase() === lowerName;
}

/** Best org for one entity name, ignoring orgs in `exclude`. */
export function suggestOrg(entityName: string | null, orgs: readonly OrgLike[], exclude: ReadonlySet<string> = new Set()): Suggestion {
  const name = (entityName ?? "").trim();
  if (name === "") return { org: null, confidence: 0, kind: "none" };
  const candidates = orgs.filter((o) => !exclude.has(o.slug));
  const lower = name.toLowerCase();
  const exact = candidates.find((o) => isExact(lower, o));
  if (exact) return { org: exact.slug, confidence: 1, kind: "exact" };
  let best: Suggestion = { org: null, confidence: 0, kind: "none" };
  for (const o of candidates) {
    const s = score(name, o);
    if (s > best.confidence) best = { org: o.slug, confidence: s, kind: "similar" };
  }
  if (best.confidence < MIN_CONFIDENCE) return { org: null, confidence: best.confidence, kind: "none" };
  return { ...best, confidence: Math.round(best.confidence * 100) / 100 };
}

/** The orgs whose name or slug equals the entity name (case-insensitively), in org order. */
function exactMatches(name: string, orgs: readonly OrgLike[]): Suggestion[] {
  const lower = name.toLowerCase();
  return orgs.filter((o) => isExact(lower, o)).map((o): Suggestion => ({ org: o.slug, confidence: 1, kind: "exact" }));
}

/** The other orgs scoring ≥ MIN_CONFIDENCE, best first (ties in org order). */
function similarMatches(name: string, orgs: readonly OrgLike[]): Suggestion[] {
  const lower = name.toLowerCase();
  const found: Array<{ org: string; score: number; at: number }> = [];
  orgs.forEach((o, at) => {
    if (isExact(lower, o)) return;
    const s = score(name, o);
    if (s >= MIN_CONFIDENCE) found.push({ org: o.slug, score: s, at });
  });
  found.sort((a, b) => b.score - a.score || a.at - b.at);
  return found.map((c): Suggestion => ({ org: c.org, confidence: Math.round(c.score * 100) / 100, kind: "similar" }));
}

/**
 * Suggestions for many entities; each org is suggested at most once (highest confidence wins, ties to
 * the earlier entity). Each entity is scored against each org once (entities × orgs), then the orgs are
 * handed out greedily from those ranked lists.
 */
export function suggestAll(entities: readonly EntityRow[], orgs: readonly OrgLike[]): Suggestion[] {
  const out: Suggestion[] = entities.map(() => ({ org: null, confidence: 0, kind: "none" }));
  const names = entities.map((e) => (e.entity_name ?? "").trim());
  // Each entity's candidates, best first: what suggestOrg answers once the ones before are taken. The
  // similar ones are scored only when the exact ones are all taken (or there are none).
  const lists: Suggestion[][] = names.map((n) => (n === "" ? [] : exactMatches(n, orgs)));
  const scored = names.map((n, i) => n === "" || (lists[i] ?? []).length === 0);
  for (const [i, n] of names.entries()) if (n !== "" && scored[i]) lists[i] = similarMatches(n, orgs);
  const next = entities.map(() => 0);
  const pending = new Set(entities.map((_, i) => i));
  const taken = new Set<string>();
  while (pending.size > 0) {
    let bestIdx = -1;
    let best: Suggestion | null = null;
    for (const i of pending) {
      const list = lists[i] ?? [];
      let at = next[i] ?? 0;
      while (at < list.length && taken.has(list[at]?.org ?? "")) at++;
      if (at === list.length && !scored[i]) {
        scored[i] = true;
        list.push(...similarMatches(names[i] ?? "", orgs));
        while (at < list.length && taken.has(list[at]?.org ?? "")) at++;
      }
      next[i] = at;
      const s = list[at];
      if (s !== undefined && (best === null || s.confidence > best.confidence)) {
        best = s;
        bestIdx = i;
      }
    }
    if (best === null || best.org === null) break;
    out[bestIdx] = best;
    taken.add(best.org);
    pending.delete(bestIdx);
  }
  return out;
}

/** `entity_id,entity_name` per line (a header line `entity_id,…` is skipped); the name may contain commas. */
export function parseEntities(text: string): EntityRow[] {
  const out: EntityRow[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || (i === 0 && /^entity_id\s*,/i.test(line))) continue;
    const [id = "", ...name] = line.split(",");
    out.push({ entity_id: id.trim() || null, entity_name: name.join(",").trim() || null, line: i + 1 });
  }
  return out;
}

/** Human text for a confidence: "exact" or a percentage. */
export function confidenceLabel(s: Suggestion): string {
  if (s.kind === "exact") return "exact";
  if (s.org === null) return "no match";
  return `${Math.round(s.confidence * 100)}%`;
}
