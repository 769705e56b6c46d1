/** The bulk-mapping matcher (console/src/match.ts): exact first, then token / bigram similarity, one org per entity. */
import { describe, expect, it } from "vitest";
import { MIN_CONFIDENCE, normalize, parseEntities, similarity, suggestAll, suggestOrg } from "../../console/src/match.js";

const orgs = [
  { slug: "acme", name: "Acme Corp" },
  { slug: "globex", name: "Globex International" },
  { slug: "initech", name: "Initech" },
  { slug: "umbrella-health", name: "Umbrella Health Services" },
];

describe("console entity → org matcher", () => {
  it("exact case-insensitive match of the name or the slug wins with confidence 1", () => {
    expect(suggestOrg("acme corp", orgs)).toEqual({ org: "acme", confidence: 1, kind: "exact" });
    expect(suggestOrg("INITECH", orgs)).toEqual({ org: "initech", confidence: 1, kind: "exact" });
    expect(suggestOrg("Umbrella-Health", orgs)).toEqual({ org: "umbrella-health", confidence: 1, kind: "exact" });
  });

  it("similar names: legal suffixes, punctuation, accents and spacing do not matter much", () => {
    expect(normalize("  Ácme, Corp. ")).toBe("acme corp");
    const a = suggestOrg("ACME Corporation Ltd.", orgs);
    expect(a).toMatchObject({ org: "acme", kind: "similar" });
    expect(a.confidence).toBeGreaterThanOrEqual(0.9);
    const g = suggestOrg("Globex Intl", orgs);
    expect(g.org).toBe("globex");
    expect(g.confidence).toBeGreaterThan(MIN_CONFIDENCE);
    expect(g.confidence).toBeLessThan(1);
    expect(suggestOrg("Umbrella Health", orgs).org).toBe("umbrella-health");
    expect(suggestOrg("GlobexInternational", orgs).org).toBe("globex");
    expect(similarity("Acme Corp", "Acme Corp")).toBe(0.95);
  });

  it("nothing close enough → no suggestion; empty names → none", () => {
    expect(suggestOrg("Wayne Enterprises", orgs)).toMatchObject({ org: null, kind: "none" });
    expect(suggestOrg("", orgs)).toEqual({ org: null, confidence: 0, kind: "none" });
    expect(suggestOrg(null, orgs).org).toBeNull();
  });

  it("suggestAll gives each org to at most one entity, best score first", () => {
    const rows = parseEntities("entity_id,entity_name\nE-1,Acme Inc\nE-2,Acme Corp\nE-3,Initech, LLC\n\nE-4,Nobody Ltd");
    expect(rows.map((r) => [r.entity_id, r.entity_name, r.line])).toEqual([
      ["E-1", "Acme Inc", 2],
      ["E-2", "Acme Corp", 3],
      ["E-3", "Initech, LLC", 4],
      ["E-4", "Nobody Ltd", 6],
    ]);
    const s = suggestAll(rows, orgs);
    expect(s[1]).toEqual({ org: "acme", confidence: 1, kind: "exact" });
    expect(s[0]?.org).not.toBe("acme");
    expect(s[2]?.org).toBe("initech");
    expect(s[3]?.org).toBeNull();
  });

  it("suggestAll hands out the same orgs as suggestOrg applied greedily (best first, each org once), for names that collide", () => {
    const words = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Hooli", "Vandelay"];
    const kinds = ["Health", "Labs", "Systems", "Foods", "Partners", "Logistics"];
    const many = words.flatMap((w, i) => kinds.map((k, j) => ({ slug: `${w.toLowerCase()}-${k.toLowerCase()}`, name: `${w} ${k}${(i + j) % 3 === 0 ? " Inc" : ""}` })));
    // Exact names (twice: the second must fall back to a similar org), suffixed, glued, misspelt, unknown, empty.
    const names = [...many.slice(0, 12).map((o) => o.name), many[0]!.name, "Acme Healthcare", "GlobexLabs", "Initek Systems", "Stark Food Co", "Nobody At All", "", "wayne-partners", "Wayne Partners LLC", "Tyrell"];
    const entities = names.map((n, i) => ({ entity_id: `E-${i}`, entity_name: n || null, line: i + 1 }));
    // The reference: each round, every pending entity's best untaken org; the highest confidence wins (first on ties).
    const reference = entities.map((): { org: string | null; confidence: number; kind: string } => ({ org: null, confidence: 0, kind: "none" }));
    const pending = new Set(entities.map((_, i) => i));
    const taken = new Set<string>();
    for (;;) {
      let pick = -1;
      let best: ReturnType<typeof suggestOrg> | null = null;
      for (const i of pending) {
        const s = suggestOrg(entities[i]!.entity_name, many, taken);
        if (s.org !== null && (best === null || s.confidence > best.confidence)) [best, pick] = [s, i];
      }
      if (best === null || best.org === null) break;
      reference[pick] = best;
      taken.add(best.org);
      pending.delete(pick);
    }
    const got = suggestAll(entities, many);
    expect(got).toEqual(reference);
    expect(got[12]).toMatchObject({ kind: "similar" }); // the repeated exact name got another org
    expect(got.filter((s) => s.kind === "exact").length).toBeGreaterThanOrEqual(12);
    expect(new Set(got.filter((s) => s.org).map((s) => s.org)).size).toBe(got.filter((s) => s.org).length);
  });
});
