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
});
