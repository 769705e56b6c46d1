import { once } from "node:events";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL, bootTest, postgresBackend, sqliteBackend } from "../helpers/backends.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { completeAuthorization, getOAuthStatus, listOAuthEvents, refreshConnection, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "./helpers/auth-server.js";
import { startFleet } from "./helpers/fleet.js";
import { getAs, oauthDeps, resolverFor, seed } from "./helpers/setup.js";

async function setup(bf: Bifrost, as: AuthServer): Promise<void> {
  await seed(bf, ["Halo"], ["acme"]);
  await setOAuthProvider(bf, "Halo", { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read"] });
  const started = await startAuthorization(oauthDeps(bf), { integration: "Halo", org: "acme", initiatorKeyId: null });
  await completeAuthorization(oauthDeps(bf), { integration: "Halo", query: (await driveAuthorization(started.authorizationUrl)).searchParams });
}

async function expire(bf: Bifrost): Promise<void> {
  for (const t of await bf.store.listOAuthTokens({})) {
    await bf.store.updateOAuthToken(t.id, { expiresAt: new Date(Date.now() - 5000).toISOString(), updatedAt: new Date().toISOString() });
  }
}

describe("refresh race (sqlite, one process)", () => {
  it("400 concurrent gets on an expired token → 1 refresh request, one new token, grant alive", async () => {
    const as = await startAuthServer({ integrations: ["Halo"] });
    const t = await bootTest(sqliteBackend);
    try {
      await setup(t.bf, as);
      const acme = (await t.bf.resolver.findOrg("acme"))!;
      const res = resolverFor(t.bf, { skewSeconds: 60 });
      for (let round = 0; round < 3; round++) {
        await expire(t.bf);
        as.reset();
        const all = await Promise.all(Array.from({ length: 400 }, () => getAs(res, "Halo", acme)));
        expect(as.tokenRequests("refresh_token")).toBe(1);
        expect(new Set(all.map((r) => r?.oauth?.accessToken)).size).toBe(1);
      }
      await refreshConnection(oauthDeps(t.bf), { integration: "Halo", org: "acme" });
    } finally {
      await t.cleanup();
      await as.close();
    }
  });
});

describe.skipIf(!PG_URL)("refresh race (postgres, 8 processes × 50 callers)", () => {
  let as: AuthServer;
  let t: Awaited<ReturnType<typeof bootTest>>;
  beforeAll(async () => {
    as = await startAuthServer({ integrations: ["Halo"] });
    t = await bootTest(postgresBackend);
    await setup(t.bf, as);
  });
  afterAll(async () => {
    await t?.cleanup();
    await as?.close();
  });

  const perRound: number[] = [];
  it("10 rounds: the AS sees exactly 1 refresh per round, all 400 callers get the same new token, grant alive", async () => {
    const env = { DATABASE_URL: t.url, BIFROST_KEYRING: t.keyringJson, BIFROST_ALLOW_HTTP_LOOPBACK: "1" };
    const fleet = await startFleet(8, env, ["Halo", "acme", "50"]);
    try {
      for (let round = 0; round < 10; round++) {
        await expire(t.bf);
        as.reset();
        const results = await fleet.round(round);
        perRound.push(as.tokenRequests("refresh_token"));
        expect(results.length).toBe(400);
        expect(results.filter((r) => r.error)).toEqual([]);
        expect(new Set(results.map((r) => r.token)).size).toBe(1);
        expect(as.tokenRequests("refresh_token")).toBe(1);
      }
    } finally {
      await fleet.stop();
    }
    console.log(`race: refresh requests seen by the AS per round: ${perRound.join(", ")}`);
    // The grant is still alive: one more refresh works.
    as.reset();
    await refreshConnection(oauthDeps(t.bf), { integration: "Halo", org: "acme" });
    expect(as.tokenRequests("refresh_token")).toBe(1);
    expect((await getOAuthStatus(t.bf, { integration: "Halo", org: "acme" }))[0]?.state).toBe("connected");
  }, 120_000);

  it("a refresher killed after the AS answered, before commit → next attempt is classified as an interrupted refresh", async () => {
    await expire(t.bf);
    as.reset();
    const worker = fork(fileURLToPath(new URL("./helpers/race-worker.ts", import.meta.url)), ["Halo", "acme", "1", "kill-after-token"], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, DATABASE_URL: t.url, BIFROST_KEYRING: t.keyringJson, BIFROST_ALLOW_HTTP_LOOPBACK: "1", NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await once(worker, "message");
    worker.send({ go: 1 });
    const [, signal] = (await once(worker, "exit")) as [number | null, string | null];
    expect(signal).toBe("SIGKILL");
    expect(as.tokenRequests("refresh_token")).toBe(1);
    const mid = (await getOAuthStatus(t.bf, { integration: "Halo", org: "acme" }))[0]!;
    expect(mid.refreshInterrupted).toBe(true);
    const acme = (await t.bf.resolver.findOrg("acme"))!;
    // A broken connection leaves config readable: no token, and the connection says why.
    await expect(getAs(resolverFor(t.bf), "Halo", acme)).resolves.toMatchObject({ oauth: null, connection: { state: "needs_reauth", reason: "interrupted_refresh" } });
    const st = (await getOAuthStatus(t.bf, { integration: "Halo", org: "acme" }))[0]!;
    expect(st.state).toBe("needs_reauth");
    expect(st.lastError).toMatch(/^interrupted_refresh: /);
    const ev = await listOAuthEvents(t.bf, { integration: "Halo", type: "needs_reauth" });
    expect(ev.map((e) => e.payload)).toEqual([{ reason: "interrupted_refresh" }]);
  }, 60_000);
});
