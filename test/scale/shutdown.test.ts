import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setOAuthProvider } from "../../src/oauth/service.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { PG_URL } from "../helpers/backends.js";
import { getAs, resolverFor } from "../oauth/helpers/setup.js";
import { type PgEnv, pgEnv, spawnServe, waitFor } from "./helpers.js";

/**
 * Graceful shutdown of a real `bifrost serve` child process on PostgreSQL: SIGTERM while the
 * background refresher waits ~1 s on a slow token endpoint → the refresh still commits (state
 * connected, the new token stored), and the process exits 0.
 */
describe.skipIf(!PG_URL)("graceful shutdown of bifrost serve (postgres)", () => {
  let pgx: PgEnv;
  let bf: Bifrost;
  let server: http.Server;
  let base = "";
  let slow = false;
  let issued: string[] = [];
  let requests = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on("end", () => {
        const token = `AT-${issued.length + 1}-${Math.random().toString(36).slice(2)}`;
        const send = () => {
          issued.push(token);
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 4 }));
        };
        if (slow) setTimeout(send, 1_000);
        else send();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pgx = await pgEnv();
    bf = await pgx.open();
  }, 30_000);

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await pgx?.cleanup();
  });

  it("SIGTERM during a slow refresh: the refresh is committed and the process exits 0", async () => {
    await createIntegration(bf, { name: "Slowpoke" });
    await setOAuthProvider(bf, "Slowpoke", { flow: "client_credentials", client_id: "c", client_secret: "s3cret-value", token_url: `${base}/token` });
    const first = await getAs(resolverFor(bf), "Slowpoke", null);
    expect(first?.oauth?.accessToken).toBe(issued[0]);
    // The token expires within the refresher's horizon: the child's first tick renews it.
    slow = true;
    const before = requests;
    const child = await spawnServe({ ...pgx.env, BIFROST_ALLOW_HTTP_LOOPBACK: "1", BIFROST_REFRESH_INTERVAL_MS: "200", BIFROST_REFRESH_AHEAD_SECONDS: "1" });
    expect(await waitFor(() => requests > before, 10_000), child.stderr()).toBe(true);
    // The token endpoint has the request and answers in ~1 s: stop the server now.
    child.child.kill("SIGTERM");
    const code = await child.exited;
    expect(code, child.stderr()).toBe(0);
    expect(issued).toHaveLength(2);
    const integ = (await bf.store.getIntegrationByName("Slowpoke"))!;
    const rows = (await bf.store.listOAuthTokens({ integrationId: integ.id })).filter((r) => r.accessToken !== null);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state).toBe("connected");
    expect(rows[0]!.refreshOwner).toBeNull();
    slow = false;
    const after = await getAs(resolverFor(bf), "Slowpoke", null);
    expect(after?.oauth?.accessToken).toBe(issued[1]);
    expect(requests).toBe(before + 1);
  }, 30_000);
});
