/**
 * Refresh storm: P processes × N callers on an expired token (PostgreSQL, in-process oidc-provider).
 * Per P it prints: refresh requests the AS saw in each storm (target: exactly 1 in every storm),
 * how many callers failed (target 0; a failed caller's latency still counts in p50/p99, none is
 * dropped), p50/p99 over every caller, a bare refresh round trip measured in the same run, and the
 * ratio p50 ÷ bare. Targets: p50 ≤ 3× bare at P=1 and ≤ 10× bare at P=8 (P=4 is printed only).
 * Storms and bare round trips alternate through bench/lib.ts `interleave` (MET/MISSED per target).
 *
 * The baseline is a bare refresh: what one refresh costs when nobody else wants the token. That is one
 * `grant_type=refresh_token` POST (client_secret_basic, rotation on, same client and endpoint) on a
 * second, independent grant, and the write of what it returned: the rotated tokens, encrypted, in one
 * `UPDATE … RETURNING` of that grant's row, committed (synchronously, like the storm's token write: a
 * refresh whose rotated token is not stored has not happened). Sent from this process while nothing
 * else runs. Not a cheaper client_credentials call. The POST alone is printed too ("POST only"), with
 * the ratio against it, so the cost of the durable write (an fsync) is visible on its own.
 * Both sides are measured warm: before the storms of a P, every worker process refreshes the token
 * once on its own (its refresh-lane connections, HTTP client, provider metadata and keep-alive
 * connection to the AS are then in use, as in a server that has refreshed before), just as the
 * baseline's connection is warmed before it is measured. Without that, the holder of most storms at
 * P=8 would be a process making its first provider call ever, and the storm would measure start-up.
 */
import { bootTest, PG_URL, postgresBackend } from "../test/helpers/backends.js";
import { completeAuthorization, setOAuthProvider, startAuthorization } from "../src/oauth/service.js";
import { CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../test/oauth/helpers/auth-server.js";
import { startFleet } from "../test/oauth/helpers/fleet.js";
import { oauthDeps, seed } from "../test/oauth/helpers/setup.js";
import { tokenSecretContext } from "../src/oauth/tokens.js";
import { interleave, median, percentile, reportFailures, table, Targets } from "./lib.js";

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
  const bareRefresh = async (): Promise<{ ms: number; postMs: number }> => {
    const b0 = performance.now();
    const resp = await fetch(`${as.issuer}/token`, { method: "POST", headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded", accept: "application/json" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: bareRt }) });
    const body = (await resp.json()) as { refresh_token?: string; access_token?: string; expires_in?: number };
    const postMs = performance.now() - b0;
    if (!resp.ok || !body.access_token || !body.refresh_token) throw new Error(`bare refresh failed: HTTP ${resp.status}`);
    const at = new Date();
    const saved = await t.bf.store.updateOAuthTokenReturning(
      bareRow.id,
      {
        state: "connected",
        accessToken: t.bf.box.encrypt(body.access_token, tokenSecretContext(bareRow, "access_token")),
        refreshToken: t.bf.box.encrypt(body.refresh_token, tokenSecretContext(bareRow, "refresh_token")),
        expiresAt: new Date(at.getTime() + (body.expires_in ?? 3600) * 1000).toISOString(),
        obtainedAt: at.toISOString(),
        updatedAt: at.toISOString(),
      },
      { bumpVersion: true },
    );
    const ms = performance.now() - b0;
    if (!saved) throw new Error("bare refresh: the token row is gone");
    bareRt = body.refresh_token;
    return { ms, postMs };
  };
  for (let i = 0; i < 5; i++) await bareRefresh(); // warm up the AS and the keep-alive connection
  const haloId = (await t.bf.store.getIntegrationByName("Halo"))!.id;
  const expireHalo = async (): Promise<void> => {
    for (const tok of await t.bf.store.listOAuthTokens({ integrationId: haloId })) await t.bf.store.updateOAuthToken(tok.id, { expiresAt: new Date(Date.now() - 5000).toISOString(), updatedAt: new Date().toISOString() });
  };
  const N = 50;
  const ROUNDS = 6;
  const LIMITS: Record<number, number> = { 1: 3, 8: 10 };
  console.log(`refresh storm, N=${N} callers per process, ${ROUNDS} storms per P, PostgreSQL, oidc-provider on 127.0.0.1`);
  const rows: Array<Array<string | number>> = [];
  for (const P of [1, 4, 8]) {
    const fleet = await startFleet(P, { DATABASE_URL: t.url, BIFROST_KEYRING: t.keyringJson, BIFROST_ALLOW_HTTP_LOOPBACK: "1" }, ["Halo", "acme", String(N)]);
    try {
      await fleet.round(-1); // warm up connections and statement caches
      // Every process refreshes once alone (see the header): the storms measure a running fleet.
      for (let i = 0; i < P; i++) {
        await expireHalo();
        const warm = await fleet.roundOn(i, -2 - i);
        const failedWarm = warm.filter((x) => x.error !== undefined || !x.token);
        if (failedWarm.length > 0) throw new Error(`warm-up refresh in worker ${i} failed: ${failedWarm[0]?.error ?? "no token"}`);
      }
      const lat: number[] = [];
      const perStorm: number[] = [];
      let failed = 0;
      const errors = new Map<string, number>();
      const bare: number[] = [];
      const post: number[] = [];
      let storm = 0;
      const results = await interleave(
        {
          storm: async () => {
            await expireHalo();
            as.reset();
            const res = await fleet.round(storm++);
            const measured = storm > 1; // the first call is interleave's warm-up round
            if (measured) perStorm.push(as.tokenRequests("refresh_token"));
            for (const x of res) {
              if (measured) lat.push(x.ms); // every caller counts, failed or not
              if (x.error === undefined && x.token) continue;
              if (!measured) continue;
              failed++;
              const reason = x.error ?? "no token returned";
              errors.set(reason, (errors.get(reason) ?? 0) + 1);
            }
            return median(res.map((x) => x.ms));
          },
          bare: async () => {
            const ms: number[] = [];
            for (let i = 0; i < 3; i++) {
              const r = await bareRefresh();
              ms.push(r.ms);
              post.push(r.postMs);
            }
            bare.push(...ms);
            return median(ms);
          },
        },
        { rounds: ROUNDS, warmup: 1 },
      );
      const p50 = median(lat);
      const b = median(bare);
      const ratio = p50 / b;
      const postOnly = median(post);
      rows.push([P, perStorm.join(" "), lat.length, failed, p50.toFixed(1), percentile(lat, 99).toFixed(1), b.toFixed(2), `${ratio.toFixed(2)}×`, postOnly.toFixed(2), `${(p50 / postOnly).toFixed(2)}×`]);
      for (const [reason, n] of errors) console.log(`FAILED callers (P=${P}): ${n} × ${reason}`);
      failed += reportFailures(results);
      // Exactly one provider call per storm: a storm with 0 (no refresh) or 2+ (a duplicate) misses.
      targets.check(`P=${P}: storms with exactly 1 refresh request at the AS (of ${ROUNDS})`, perStorm.filter((n) => n === 1).length, ROUNDS, { atLeast: true, digits: 0 });
      targets.noFailures(`P=${P}: failed callers`, failed);
      const limit = LIMITS[P];
      if (limit !== undefined) targets.check(`P=${P}: caller p50 ÷ bare refresh round trip`, ratio, limit, { unit: "×" });
    } finally {
      await fleet.stop();
    }
  }
  table(["P", "refresh requests at AS per storm", "callers", "failed callers", "p50 ms", "p99 ms", "bare refresh (POST + token write) p50 ms", "p50 ÷ bare", "POST only p50 ms", "p50 ÷ POST only"], rows);
} finally {
  await t.cleanup();
  await as.close();
}
targets.report();
