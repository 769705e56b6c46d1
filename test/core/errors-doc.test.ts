import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS, ErrorCode } from "../../src/core/errors.js";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Environment variable names share the prefix; they are documented in the README, not here. */
const ENV_VARS = new Set(["BIFROST_HOME", "BIFROST_KEYRING", "BIFROST_KEYRING_FILE", "BIFROST_URL", "BIFROST_API_KEY", "BIFROST_PUBLIC_URL", "BIFROST_ALLOW_HTTP_LOOPBACK", "BIFROST_LOG_LEVEL", "BIFROST_WORKFLOWS_DIR", "BIFROST_REFRESH_INTERVAL_MS", "BIFROST_REFRESH_AHEAD_SECONDS", "BIFROST_CACHE_TTL_MS", "BIFROST_SPEC_MAX_BYTES", "BIFROST_WEBHOOK_URL", "BIFROST_WEBHOOK_SECRET", "BIFROST_SHUTDOWN_TIMEOUT_MS", "BIFROST_AUDIT_RETENTION_DAYS", "BIFROST_WORKFLOW_TIMEOUT_MS", "BIFROST_WORKFLOW_MEMORY_MB", "BIFROST_WORKFLOW_CONCURRENCY", "BIFROST_WORKFLOW_QUEUE"]);

const CODE_NAME = new Map(Object.entries(ErrorCode).map(([name, code]) => [code as string, name]));
const ERRORS_FILE = join("src", "core", "errors.ts");

/** Every source file's text; core/errors.ts without its ErrorCode / ERROR_STATUS tables (they list every code). */
const sources = sourceFiles("src").map((f) => {
  const text = readFileSync(f, "utf8");
  return f === ERRORS_FILE ? text.replace(/export const ErrorCode = \{[\s\S]*?\n\};/, "").replace(/export const ERROR_STATUS[\s\S]*?\n\};/, "") : text;
});
const all = sources.join("\n");

/** `"BIFROST_X", 404` / `ErrorCode.X, 404` / `clientError("X", 504` at a throw site → [code, status]. */
function statusesInSource(): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const m of all.matchAll(/"(BIFROST_[A-Z_]+)",\s*(\d{3})\b/g)) if (!ENV_VARS.has(m[1] as string)) out.push([m[1] as string, Number(m[2])]);
  for (const m of all.matchAll(/ErrorCode\.([A-Z_]+),\s*(\d{3})\b/g)) out.push([`BIFROST_${m[1]}`, Number(m[2])]);
  for (const m of all.matchAll(/clientError\("([A-Z_]+)",\s*(\d{3})\b/g)) out.push([`BIFROST_CLIENT_${m[1]}`, Number(m[2])]);
  return out;
}

describe("docs/errors.md", () => {
  const doc = readFileSync("docs/errors.md", "utf8");
  const rows = new Map([...doc.matchAll(/^\| `(BIFROST_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]));

  it("lists exactly the codes of ErrorCode", () => {
    expect(Object.keys(ErrorCode).length).toBeGreaterThan(5);
    expect([...rows.keys()].sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it("gives each code the HTTP status of ERROR_STATUS (– for codes that are never an HTTP response)", () => {
    const wrong = Object.values(ErrorCode)
      .map((code) => ({ code, doc: rows.get(code), status: ERROR_STATUS[code] === null ? "–" : String(ERROR_STATUS[code]) }))
      .filter((r) => r.doc !== r.status);
    expect(wrong).toEqual([]);
  });

  it("every throw site uses the status ERROR_STATUS gives its code", () => {
    const sites = statusesInSource();
    expect(sites.length).toBeGreaterThan(20);
    const wrong = sites.filter(([code, status]) => ERROR_STATUS[code as ErrorCode] !== status).map(([code, status]) => `${code} thrown with ${status}, table says ${ERROR_STATUS[code as ErrorCode]}`);
    expect(wrong).toEqual([]);
  });

  it("every code used in the source is in ErrorCode", () => {
    const used = new Set([...all.matchAll(/"(BIFROST_[A-Z_]+)"/g)].map((m) => m[1] as string).filter((c) => !ENV_VARS.has(c)));
    expect([...used].filter((c) => !CODE_NAME.has(c))).toEqual([]);
  });

  it("ErrorCode holds no code the source no longer uses", () => {
    const unused = Object.entries(ErrorCode).filter(([name, code]) => {
      const short = code.replace(/^BIFROST_CLIENT_/, "");
      return !all.includes(`"${code}"`) && !all.includes(`ErrorCode.${name}`) && !(code.startsWith("BIFROST_CLIENT_") && all.includes(`clientError("${short}"`));
    });
    expect(unused.map(([, code]) => code)).toEqual([]);
  });
});
