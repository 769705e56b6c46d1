import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface Rule {
  name: string;
  from: { path?: string };
  to: { path?: string; pathNot?: string[] };
}

const config = createRequire(import.meta.url)("../../.dependency-cruiser.cjs") as { forbidden: Rule[] };
const layerRules = config.forbidden.filter((r) => r.name.startsWith("layer-"));

/** What sits directly under src/: folders as `name/`, files as `name.ts`. */
const entries = readdirSync("src").map((n) => (statSync(join("src", n)).isDirectory() ? `${n}/` : n));

/** The layer table of docs/architecture.md: `| 3 | \`kernel/\` | …` → kernel/ → 3. */
function docLayers(): Map<string, number> {
  const doc = readFileSync(join("docs", "architecture.md"), "utf8");
  const out = new Map<string, number>();
  for (const m of doc.matchAll(/^\| (\d+) \| `([^`]+)`/gm)) out.set(m[2] as string, Number(m[1]));
  return out;
}

/** The rule's `from` pattern back to an entry name: `^src/kernel/` → kernel/, `^src/index\.ts$` → index.ts. */
const entryOf = (pattern: string): string => pattern.replace(/^\^src\//, "").replace(/\$$/, "").replace(/\\\./g, ".");

describe("layer rule and docs/architecture.md", () => {
  it("every folder and file directly under src/ has a layer rule and a row in the layer table", () => {
    const ruled = new Set(layerRules.map((r) => entryOf(r.from.path ?? "")));
    const documented = docLayers();
    expect(entries.filter((e) => !ruled.has(e))).toEqual([]);
    expect(entries.filter((e) => !documented.has(e))).toEqual([]);
    expect([...documented.keys()].filter((e) => !entries.includes(e))).toEqual([]);
  });

  it("each entry may import exactly the entries of lower layers in the table", () => {
    const documented = docLayers();
    for (const rule of layerRules) {
      const self = entryOf(rule.from.path ?? "");
      const rank = documented.get(self) as number;
      const allowed = (rule.to.pathNot ?? []).map(entryOf).filter((e) => e !== self).sort();
      const lower = [...documented].filter(([, r]) => r < rank).map(([e]) => e).sort();
      expect({ entry: self, allowed }).toEqual({ entry: self, allowed: lower });
    }
  });
});
