import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** The test helper's own contract: PostgreSQL suites never vanish silently. */
describe("test/helpers/backends.ts", () => {
  const load = (env: Record<string, string>) => {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(BIFROST_|DATABASE_URL$|CI$|VITEST)/.test(k)) clean[k] = v;
    return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", 'await import("./test/helpers/backends.ts"); console.log("loaded");'], { env: { ...clean, ...env }, encoding: "utf8", timeout: 60_000 });
  };

  it("with CI=true and no PostgreSQL URL, loading it fails loudly naming the variable", () => {
    const r = load({ CI: "true", VITEST: "true" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain("loaded");
    expect(r.stderr).toContain("PostgreSQL suites are mandatory in CI");
    expect(r.stderr).toContain("BIFROST_TEST_DATABASE_URL");
  });
});
