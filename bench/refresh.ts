/**
 * Refresh storm: P processes × N callers on an expired token (PostgreSQL, in-process oidc-provider).
 * Prints refresh requests seen by the AS (target: 1 per storm), p50/p99 latency over EVERY caller
 * (failed callers included, never dropped) and how many callers failed (target 0), and p50 / one bare
 * token-endpoint round trip measured in the same run (target ≤ 1.5). Storms and bare round trips
 * alternate (bench/lib.ts reports; MET/MISSED per target).
 *
 * The baseline is fair: one bare `grant_type=refresh_token` POST (client_secret_basic, rotation on,
 * same client and endpoint) on a second, independent grant, with the rotated refresh token kept for
 * the next one, sent from this process while nothing else runs. Not a cheaper client_credentials call.
 */
import { bootTest, PG_URL, postgresBackend } from "../test/helpers/backends.js";
import { completeAuthorization, setOAuthProvider, startAuthorization } from "../src/oauth/service.js";
import { CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../test/oauth/helpers/auth-server.js";
import { startFleet } from "../test/oauth/helpers/fleet.js";
import { oauthDeps, seed } from "../test/oauth/helpers/setup.js";
import { tokenSecretContext } from "../src/oauth/tokens.js";
import { median, percentile, Targets } from "./lib.js";

if (!PG_URL) {
  console.log("bench:refresh SKIPPED: set BIFROST_TEST_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server to run it.");
  process.exit(0);
}
const targets = new Targets();
const as = await startAuthServer({ integrations: ["Halo", "Bare"] });
const t = await bootTest(postgresBackend);
try {
  await seed(t.bf, ["Halo", "Bare"], ["acme"]);
  for (const [name, org] of [["Halo", "acme"], ["Bare", null]] as const) {
    await setOAuthProvider(t.bf, name, { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] });
    const started = await startAuthorization(oauthDeps(t.bf), { integration: name, org, initiatorKeyId: null });
    await completeAuthorization(oauthDeps(t.bf), { integration: name, query: (await driveAuthorization(started.authorizationUrl)).searchParams });
  }
  // The baseline's own grant: its refresh token, taken out of Bifrost once and then rotated by hand.
  const bareIntegration = (await t.bf.store.getIntegrationByName("Bare"))!;
  const bareRow = (await t.bf.store.listOAuthTokens({ integrationId: bareIntegration.id }))[0]!;
  let bareRt = t.bf.box.decrypt(bareRow.refreshToken!, tokenSecretContext(bareRow, "refresh_token"));
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64")}`;
  const bareRefresh = async (): Promise<number> => {
    const b0 = performance.now();
    const resp = await fetch(`${as.issuer}/token`, { method: "POST", headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded", accept: "application/json" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: bareRt }) });
    const body = (await resp.json()) as { refresh_token?: string; access_token?: string };
    const ms = performance.now() - b0;
    if (!resp.ok || !body.access_token || !body.refresh_token) throw new Error(`bare refresh failed: HTTP ${resp.status}`);
    bareRt = body.refresh_token;
    return ms;
  };
  for (let i = 0; i < 5; i++) await bareRefresh(); // warm up the AS and the keep-alive connection
  const haloId = (await t.bf.store.getIntegrationByName("Halo"))!.id;
  const N = 50;
  console.log(`refresh storm, N=${N} callers per process, PostgreSQL, oidc-provider on 127.0.0.1`);
  console.log("P | refresh requests at AS (max per storm) | callers | failed callers | p50 ms | p99 ms | bare refresh_token grant round trip ms (p50) | p50/bare");
  for (const P of [1, 4, 8]) {
    const fleet = await startFleet(P, { DATABASE_URL: t.url, BIFROST_KEYRING: t.keyringJson, BIFROST_ALLOW_HTTP_LOOPBACK: "1" }, ["Halo", "acme", String(N)]);
    try {
      await fleet.round(-1); // warm up connections and statement caches
      const lat: number[] = [];
      let requests = 0;
      let failed = 0;
      const errors = new Map<string, number>();
      const bare: number[] = [];
      for (let r = 0; r < 5; r++) {
        for (const tok of await t.bf.store.listOAuthTokens({ integrationId: haloId })) await t.bf.store.updateOAuthToken(tok.id, { expiresAt: new Date(Date.now() - 5000).toISOString(), updatedAt: new Date().toISOString() });
        as.reset();
        const res = await fleet.round(r);
        requests = Math.max(requests, as.tokenRequests("refresh_token"));
        // Every caller's latency counts, failed or not; failures are counted and printed below.
        lat.push(...res.map((x) => x.ms));
        for (const x of res) {
          if (x.error === undefined && x.token) continue;
          failed++;
          const reason = x.error ?? "no token returned";
          errors.set(reason, (errors.get(reason) ?? 0) + 1);
        }
        // Bare refresh_token grants to the same token endpoint, measured in the same run, between storms.
        for (let i = 0; i < 3; i++) bare.push(await bareRefresh());
      }
      const p50 = median(lat);
      const b = median(bare);
      console.log(`${P} | ${requests} | ${lat.length} | ${failed} | ${p50.toFixed(1)} | ${percentile(lat, 99).toFixed(1)} | ${b.toFixed(1)} | ${(p50 / b).toFixed(2)}`);
      for (const [reason, n] of errors) console.log(`  FAILED callers (P=${P}): ${n} × ${reason}`);
      targets.check(`P=${P}: refresh requests at the AS per storm`, requests, 1, { digits: 0 });
      targets.noFailures(`P=${P}: failed callers`, failed);
      targets.check(`P=${P}: caller p50 ÷ bare refresh round trip`, p50 / b, 1.5, { unit: "×" });
    } finally {
      await fleet.stop();
    }
  }
} finally {
  await t.cleanup();
  await as.close();
}
targets.report();
