/**
 * Start-up and operations errors say what to fix, with a code: a DATABASE_URL that points at nothing,
 * an unknown role or database (BIFROST_DATABASE_UNAVAILABLE naming host, port and database, the URL
 * shown without its password), a busy port (BIFROST_PORT_IN_USE naming the port and --port), and the
 * shutdown deadline (BIFROST_SHUTDOWN_TIMEOUT_MS) cutting off a request that never finishes.
 */
import { createServer, type Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shutdownTimeoutFromEnv, shutdownWithin } from "../../src/cli/commands/serve.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server/index.js";
import { openStore } from "../../src/storage/open.js";
import { bootTest, PG_URL } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";

const PASSWORD = "S3cret-pw-7731";
const quiet = createLogger({ level: "silent" });

async function openError(databaseUrl: string): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const err = (await openBifrost({ env: { DATABASE_URL: databaseUrl, BIFROST_KEYRING: generateKeyringJson(), BIFROST_HOME: "/nonexistent-bifrost-home" }, warn: () => undefined }).catch((e: unknown) => e)) as {
    code: string;
    message: string;
    details: Record<string, unknown>;
  };
  expect(err).toBeInstanceOf(Error);
  return err;
}

/** A port nothing listens on: bind one, note it, release it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const { port } = s.address() as { port: number };
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe("database connection errors", () => {
  it("nothing listening on the port → BIFROST_DATABASE_UNAVAILABLE naming host:port and the database, URL without the password", async () => {
    const port = await closedPort();
    const err = await openError(`postgres://bifrost_app:${PASSWORD}@127.0.0.1:${port}/bifrost_prod`);
    expect(err.code).toBe("BIFROST_DATABASE_UNAVAILABLE");
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain(`database "bifrost_prod"`);
    expect(err.message).toContain(`DATABASE_URL=postgres://bifrost_app:***@127.0.0.1:${port}/bifrost_prod`);
    expect(err.message).toContain("ECONNREFUSED");
    expect(JSON.stringify(err.details) + err.message).not.toContain(PASSWORD);
  });

  it("the CLI prints it in the error [CODE] form (and --json), never the password", async () => {
    const port = await closedPort();
    const url = `postgres://bifrost_app:${PASSWORD}@127.0.0.1:${port}/bifrost_prod`;
    const human = await runCliInProcess(["migrate"], { env: { DATABASE_URL: url } });
    expect(human.status).toBe(1);
    expect(human.stderr).toMatch(/^error \[BIFROST_DATABASE_UNAVAILABLE\]: Cannot connect to PostgreSQL at 127\.0\.0\.1:\d+/);
    const json = await runCliInProcess(["migrate", "--json"], { env: { DATABASE_URL: url } });
    expect(json.status).toBe(1);
    expect((JSON.parse(json.stdout) as { code: string }).code).toBe("BIFROST_DATABASE_UNAVAILABLE");
    expect(human.stdout + human.stderr + json.stdout + json.stderr).not.toContain(PASSWORD);
  });

  it("a transaction's own error passes through untouched, even one that looks like a network error; the database's is translated", async () => {
    const port = await closedPort();
    const down = openStore({ databaseUrl: `postgres://bifrost_app:${PASSWORD}@127.0.0.1:${port}/bifrost_prod`, home: "/nonexistent-bifrost-home" });
    try {
      const dbErr = (await down.transaction(async () => "never").catch((e: unknown) => e)) as { code?: string; message?: string };
      expect(dbErr.code).toBe("BIFROST_DATABASE_UNAVAILABLE");
      expect(dbErr.message).not.toContain(PASSWORD);
    } finally {
      await down.close();
    }
    if (!PG_URL) return;
    const up = openStore({ databaseUrl: PG_URL, home: "/nonexistent-bifrost-home" });
    try {
      const mine = Object.assign(new Error("the provider refused the connection"), { code: "ECONNREFUSED" });
      expect(await up.transaction(async () => Promise.reject(mine)).catch((e: unknown) => e)).toBe(mine);
      expect(await up.retryingTransaction(async () => Promise.reject(mine)).catch((e: unknown) => e)).toBe(mine);
    } finally {
      await up.close();
    }
  });

  describe.skipIf(!PG_URL)("on a running PostgreSQL", () => {
    const withUrl = (edit: (u: URL) => void): string => {
      const u = new URL(PG_URL);
      edit(u);
      return u.toString();
    };

    it("an unknown role → names the user and how to fix it, not the password", async () => {
      const err = await openError(
        withUrl((u) => {
          u.username = "no_such_role_q7";
          u.password = PASSWORD;
        }),
      );
      expect(err.code).toBe("BIFROST_DATABASE_UNAVAILABLE");
      expect(err.details.reason).toMatch(/^(role|password)$/);
      expect(err.message).toContain(`"no_such_role_q7"`);
      expect(err.message).toContain("Fix the");
      expect(err.message).toContain("no_such_role_q7:***@");
      expect(err.message).not.toContain(PASSWORD);
    });

    it("an unknown database → says it does not exist and how to create it", async () => {
      const err = await openError(
        withUrl((u) => {
          u.pathname = "/no_such_db_q7";
        }),
      );
      expect(err.code).toBe("BIFROST_DATABASE_UNAVAILABLE");
      expect(err.details.reason).toBe("database");
      expect(err.message).toContain(`Database "no_such_db_q7" does not exist`);
      expect(err.message).toContain("createdb no_such_db_q7");
    });
  });
});

describe("server start-up and shutdown", () => {
  let t: Awaited<ReturnType<typeof bootTest>>;
  let bf: Bifrost;
  beforeAll(async () => {
    t = await bootTest();
    bf = t.bf;
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("a busy port → BIFROST_PORT_IN_USE naming the port and --port; the free port works", async () => {
    const taken: Server = createServer();
    await new Promise<void>((ok) => taken.listen(0, "127.0.0.1", ok));
    const { port } = taken.address() as { port: number };
    try {
      const err = (await startServer({ bifrost: bf, port, background: false, logger: quiet }).catch((e: unknown) => e)) as { code: string; message: string };
      expect(err.code).toBe("BIFROST_PORT_IN_USE");
      expect(err.message).toContain(`Port ${port} on 127.0.0.1`);
      expect(err.message).toContain("--port");
    } finally {
      await new Promise<void>((ok) => taken.close(() => ok()));
    }
    const server = await startServer({ bifrost: bf, port, background: false, logger: quiet });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.close();
  });

  it("BIFROST_SHUTDOWN_TIMEOUT_MS: default 25000, a bad value is refused naming the variable", () => {
    expect(shutdownTimeoutFromEnv({})).toBe(25_000);
    expect(shutdownTimeoutFromEnv({ BIFROST_SHUTDOWN_TIMEOUT_MS: "1500" })).toBe(1500);
    expect(() => shutdownTimeoutFromEnv({ BIFROST_SHUTDOWN_TIMEOUT_MS: "soon" })).toThrow(/BIFROST_SHUTDOWN_TIMEOUT_MS="soon"/);
  });

  it("graceful close finishes when nothing is in flight; a request that never finishes hits the deadline", async () => {
    const idle = await startServer({ bifrost: bf, port: 0, background: false, logger: quiet });
    expect(await shutdownWithin(10_000, () => idle.close())).toBe("closed");

    const busy = await startServer({ bifrost: bf, port: 0, background: false, logger: quiet });
    const { port } = new URL(busy.url);
    const socket = new Socket();
    await new Promise<void>((ok) => socket.connect(Number(port), "127.0.0.1", ok));
    // Headers promise a body that never comes: the request stays in flight.
    socket.write(`POST /api/orgs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"slug":`);
    await new Promise((r) => setTimeout(r, 50));
    const closing = busy.close();
    try {
      expect(await shutdownWithin(300, () => closing)).toBe("timed_out");
    } finally {
      socket.destroy();
      await closing;
    }
  });
});
