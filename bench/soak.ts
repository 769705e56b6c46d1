/**
 * Soak (`npm run bench:soak [-- --minutes N]`, default 10): two `bifrost serve` processes on one
 * PostgreSQL database; mixed resolved reads (a config integration and an OAuth integration whose
 * access tokens live 5 s, from the in-process oidc-provider), config writes every 250 ms, and token
 * refreshes (on demand and by both background refreshers). Reports failed reads (must be 0), dead
 * grants (needs_reauth/error rows, must be 0), stale reads, and RSS per process at start and end.
 */
import { parseArgs } from "node:util";
import { completeAuthorization, setOAuthProvider, startAuthorization } from "../src/oauth/service.js";
import { createIntegration } from "../src/services/integrations.js";
import { setConfig } from "../src/services/mappings.js";
import { CLIENT_ID, CLIENT_SECRET, driveAuthorization, PUBLIC_URL, startAuthServer } from "../test/oauth/helpers/auth-server.js";
import { type Child, openSite, rssMiB, seedResolved, spawnServe } from "./cluster.js";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, readers: { type: "string", default: "8" } } });
const minutes = Number(values.minutes);
const readers = Number(values.readers);

const as = await startAuthServer({ integrations: ["Halo"], accessTtl: 5 });
const site = await openSite("postgres");
const { key, path } = await seedResolved(site.bf);
await createIntegration(site.bf, { name: "Halo" });
const oauthOpts = { publicUrl: PUBLIC_URL, allowHttpLoopback: true };
await setOAuthProvider(site.bf, "Halo", { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] });
const deps = { store: site.bf.store, box: site.bf.box, clock: site.bf.clock, oauth: oauthOpts };
const started = await startAuthorization(deps, { integration: "Halo", org: null, initiatorKeyId: null });
const cb = await driveAuthorization(started.authorizationUrl);
await completeAuthorization(deps, { integration: "Halo", query: cb.searchParams, initiatorKeyId: null });

const env = { ...site.env, BIFROST_ALLOW_HTTP_LOOPBACK: "1", BIFROST_PUBLIC_URL: PUBLIC_URL, BIFROST_REFRESH_INTERVAL_MS: "1000", BIFROST_REFRESH_AHEAD_SECONDS: "2" };
const servers: Child[] = [await spawnServe(env), await spawnServe(env)];
const stats = { reads: 0, failed: 0, oauthReads: 0, stale: 0, writes: 0, failures: [] as string[] };
let written = 0;
/** The newest page_size committed (reads may lag it by the in-flight write only). */
let committed = 0;

const end = Date.now() + minutes * 60_000;
const headers = { authorization: `Bearer ${key}` };

async function reader(i: number): Promise<void> {
  let n = 0;
  while (Date.now() < end) {
    const s = servers[(i + n++) % servers.length]!;
    const oauth = n % 2 === 0;
    const floor = committed;
    try {
      const res = await fetch(`${s.url}${oauth ? "/api/integrations/Halo/resolved" : path}`, { headers });
      const body = (await res.json()) as { config?: { page_size?: number }; oauth?: { access_token?: string; expires_at?: string } | null };
      stats.reads++;
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      if (oauth) {
        stats.oauthReads++;
        if (!body.oauth?.access_token || Date.parse(body.oauth.expires_at ?? "") <= Date.now()) throw new Error("no valid access token");
      } else if ((body.config?.page_size ?? -1) < floor) {
        // Older than a write that committed before this request started: tolerated within the cache TTL only.
        stats.stale++;
      }
    } catch (err) {
      stats.failed++;
      if (stats.failures.length < 20) stats.failures.push(`${new Date().toISOString()} ${(err as Error).message}`);
    }
  }
}

async function writer(): Promise<void> {
  while (Date.now() < end) {
    const v = ++written + 100;
    await setConfig(site.bf, "Crm", "acme", { page_size: v });
    committed = v;
    stats.writes++;
    await new Promise((r) => setTimeout(r, 250));
  }
}

await new Promise((r) => setTimeout(r, 3_000));
const rssStart = servers.map((s) => rssMiB(s.pid));
console.log(`soak: ${minutes} min, ${readers} readers, 2 servers (${servers.map((s) => s.url).join(", ")}), RSS start ${rssStart.join(" / ")} MiB`);
const progress = setInterval(() => console.log(`  ${new Date().toISOString()} reads=${stats.reads} failed=${stats.failed} writes=${stats.writes} refreshes=${as.tokenRequests("refresh_token")} rss=${servers.map((s) => rssMiB(s.pid)).join("/")}`), 60_000);
await Promise.all([writer(), ...Array.from({ length: readers }, (_, i) => reader(i))]);
clearInterval(progress);
const rssEnd = servers.map((s) => rssMiB(s.pid));
const integ = (await site.bf.store.getIntegrationByName("Halo"))!;
const tokens = await site.bf.store.listOAuthTokens({ integrationId: integ.id });
const dead = tokens.filter((t) => t.state === "needs_reauth" || t.state === "error").length;
const codes = await Promise.all(servers.map((s) => s.stop()));
const result = {
  minutes,
  reads: stats.reads,
  oauthReads: stats.oauthReads,
  failedReads: stats.failed,
  staleReadsBeyondInFlight: stats.stale,
  configWrites: stats.writes,
  tokenRefreshes: as.tokenRequests("refresh_token"),
  deadGrants: dead,
  rssStartMiB: rssStart,
  rssEndMiB: rssEnd,
  exitCodes: codes,
  failures: stats.failures,
};
console.log(JSON.stringify(result, null, 2));
await site.cleanup();
await as.close();
process.exit(stats.failed === 0 && dead === 0 ? 0 : 1);
