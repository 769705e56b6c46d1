import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Environment variable names share the prefix; they are documented in the README, not here. */
const ENV_VARS = new Set(["BIFROST_HOME", "BIFROST_KEYRING", "BIFROST_KEYRING_FILE", "BIFROST_URL", "BIFROST_API_KEY", "BIFROST_PUBLIC_URL", "BIFROST_ALLOW_HTTP_LOOPBACK", "BIFROST_LOG_LEVEL", "BIFROST_WORKFLOWS_DIR", "BIFROST_REFRESH_INTERVAL_MS", "BIFROST_REFRESH_AHEAD_SECONDS", "BIFROST_CACHE_TTL_MS", "BIFROST_SPEC_MAX_BYTES", "BIFROST_WEBHOOK_URL", "BIFROST_WEBHOOK_SECRET"]);

describe("docs/errors.md", () => {
  const codes = new Set(
    sourceFiles("src")
      .flatMap((f) => [...readFileSync(f, "utf8").matchAll(/"(BIFROST_[A-Z_]+)"/g)].map((m) => m[1] as string))
      .filter((c) => !ENV_VARS.has(c)),
  );
  const doc = readFileSync("docs/errors.md", "utf8");

  it("lists every error code used in the source", () => {
    expect(codes.size).toBeGreaterThan(5);
    const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });

  it("lists no code the source no longer uses", () => {
    const documented = [...doc.matchAll(/^\| `(BIFROST_[A-Z_]+)`/gm)].map((m) => m[1] as string);
    expect(documented.filter((c) => !codes.has(c))).toEqual([]);
  });
});
