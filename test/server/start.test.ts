import { expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server/index.js";
import { bootTest } from "../helpers/backends.js";

it("startServer listens on a free port and closes", async () => {
  const t = await bootTest();
  try {
    const server = await startServer({ bifrost: t.bf, port: 0, logger: createLogger({ level: "silent" }) });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.url}/healthz`);
      expect(await res.json()).toEqual({ status: "ok" });
      const unauth = await fetch(`${server.url}/api/integrations`);
      expect(unauth.status).toBe(401);
      expect(await unauth.json()).toMatchObject({ statusCode: 401, code: "BIFROST_UNAUTHENTICATED" });
    } finally {
      await server.close();
    }
  } finally {
    await t.cleanup();
  }
});
