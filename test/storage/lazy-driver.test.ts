import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";

const OPEN = fileURLToPath(new URL("../../src/storage/open.ts", import.meta.url));

/** Opens a SQLite store (and a ChangeFeed) in a fresh process; prints whether the pg driver was loaded. */
const SCRIPT = `
import { createRequire } from "node:module";
const { openStore } = await import(${JSON.stringify(OPEN)});
const store = openStore({ home: process.env.HOME_DIR });
await store.migrate();
await store.listOrgs();
await store.close();
const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(k));
console.log(loaded ? "pg loaded" : "pg not loaded");
`;

describe("storage: the PostgreSQL driver loads only for PostgreSQL", () => {
  it("opening, migrating and reading an embedded SQLite store never loads pg", () => {
    const t = tempDir();
    try {
      const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SCRIPT], { env: { ...process.env, HOME_DIR: t.dir }, encoding: "utf8" });
      expect(out.trim()).toBe("pg not loaded");
    } finally {
      t.cleanup();
    }
  });
});
