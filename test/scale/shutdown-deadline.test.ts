import { Socket } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";
import { spawnServe } from "./helpers.js";

/**
 * The hard shutdown deadline of a real `bifrost serve` child process (the exit code is the point, so
 * the process boundary matters): SIGTERM with nothing in flight exits 0; with a request that never
 * finishes, the process gives up after BIFROST_SHUTDOWN_TIMEOUT_MS and exits 1, saying so on stderr.
 */
describe("shutdown deadline of bifrost serve (SQLite)", () => {
  const t = tempDir("bifrost-shutdown-");
  const env = { BIFROST_HOME: join(t.dir, ".bifrost"), BIFROST_SHUTDOWN_TIMEOUT_MS: "500", DATABASE_URL: "" };
  afterAll(() => t.cleanup());

  it("SIGTERM with nothing in flight: graceful close, exit 0", async () => {
    const child = await spawnServe({ ...env, BIFROST_SHUTDOWN_TIMEOUT_MS: "20000" });
    expect(await child.stop("SIGTERM"), child.stderr()).toBe(0);
  }, 30_000);

  it("SIGTERM while a request never finishes: exit 1 after the deadline, naming BIFROST_SHUTDOWN_TIMEOUT_MS", async () => {
    const child = await spawnServe(env);
    const { port } = new URL(child.url);
    const socket = new Socket();
    try {
      await new Promise<void>((ok) => socket.connect(Number(port), "127.0.0.1", ok));
      // Headers promise a body that never comes: the request stays in flight.
      socket.write(`POST /api/orgs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"slug":`);
      await new Promise((r) => setTimeout(r, 100));
      const code = await child.stop("SIGTERM");
      expect(code, child.stderr()).toBe(1);
      expect(child.stderr()).toContain("did not finish within 500 ms (BIFROST_SHUTDOWN_TIMEOUT_MS)");
    } finally {
      socket.destroy();
    }
  }, 30_000);
});
