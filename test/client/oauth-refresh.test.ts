import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiError, createClient, type ClientSpec, type OperationSpec } from "../../src/client/index.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { createContext, runInContext } from "../../src/runtime/context.js";
import { integrations } from "../../src/runtime/integrations.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import type { StoreResolver } from "../../src/host/store-resolver.js";
import { bootTest, sqliteBackend } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, startAuthServer } from "../oauth/helpers/auth-server.js";
import { resolverFor } from "../oauth/helpers/setup.js";
import { type ApiServer, json, startApiServer, trustOrigins } from "./helpers.js";

/** 401 → forced refresh at a real oidc-provider (client credentials) → one retry with the new token. */
describe("bifrost/client: 401 → OAuth refresh → retry (sqlite)", () => {
  let as: AuthServer;
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let api: ApiServer;
  let resolver: StoreResolver;
  let acme: ExecutionOrg;
  /** Tokens the API no longer accepts. */
  const revoked = new Set<string>();

  beforeAll(async () => {
    // The local API servers speak plain http on loopback: allowed only with this switch.
    process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
    as = await startAuthServer({ integrations: ["Api"] });
    api = await startApiServer();
    const t = await bootTest(sqliteBackend);
    bf = t.bf;
    cleanup = t.cleanup;
    await createOrg(bf, { slug: "acme" });
    await createIntegration(bf, { name: "Api", configSchema: [{ key: "base_url", type: "string" }] });
    await setMapping(bf, "Api", "acme", { entityId: "e1", config: { base_url: api.url } });
    // The integration-level token may go to the org's base URL only because it is trusted.
    await trustOrigins(bf.store, "Api", [api.url]);
    await setOAuthProvider(bf, "Api", { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${as.issuer}/token`, scopes: ["api:read"] });
    resolver = resolverFor(bf);
    acme = (await resolver.findOrg("acme"))!;
    api.handler = (r, res) => {
      const token = String(r.headers.authorization ?? "").replace(/^Bearer /, "");
      if (!token || revoked.has(token)) json(res, 401, { error: "invalid_token" });
      else json(res, 200, { token });
    };
  });
  afterAll(async () => {
    delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
    await cleanup?.();
    await api?.close();
    await as?.close();
  });
  beforeEach(() => {
    api.seen = [];
  });

  const spec: ClientSpec = { integration: "Api", servers: [], securitySchemes: { oauth: { type: "oauth2" } }, security: [{ oauth: [] }] };
  const op: OperationSpec = { id: "me", method: "GET", path: "/me" };
  const run = <T>(fn: () => Promise<T>): Promise<T> => runInContext(createContext({ org: acme, caller: { kind: "cli", platform: false }, resolver }), fn);

  it("a rejected token is refreshed once and the call retried; later get() in the execution sees the new token", async () => {
    const client = createClient(spec);
    const out = await run(async () => {
      const before = (await integrations.require("Api")).oauth!.accessToken;
      revoked.add(before);
      const minted = as.tokenRequests("client_credentials");
      const r = await client.request<{ token: string }>(op);
      const after = (await integrations.require("Api")).oauth!.accessToken;
      return { before, r, after, refreshes: as.tokenRequests("client_credentials") - minted };
    });
    expect(out.refreshes).toBe(1);
    expect(out.r.token).not.toBe(out.before);
    expect(out.after).toBe(out.r.token);
    expect(api.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${out.before}`, `Bearer ${out.r.token}`]);
  });

  it("50 parallel 401s → at most one forced refresh, all succeed", async () => {
    const client = createClient(spec);
    const out = await run(async () => {
      revoked.add((await integrations.require("Api")).oauth!.accessToken);
      const minted = as.tokenRequests("client_credentials");
      const rs = await Promise.all(Array.from({ length: 50 }, () => client.request<{ token: string }>(op)));
      return { tokens: new Set(rs.map((r) => r.token)).size, refreshes: as.tokenRequests("client_credentials") - minted };
    });
    expect(out.refreshes).toBeLessThanOrEqual(1);
    expect(out.tokens).toBe(1);
    expect(api.seen.length).toBe(100);
  });

  it("a token refreshed elsewhere meanwhile is used without another refresh", async () => {
    const client = createClient(spec);
    let minted = 0;
    let stale = "";
    const r = await run(async () => {
      stale = (await integrations.require("Api")).oauth!.accessToken; // cached in this execution
      revoked.add(stale);
      // Another execution hits the 401 first and refreshes.
      await run(() => client.request(op));
      minted = as.tokenRequests("client_credentials");
      return client.request<{ token: string }>(op);
    });
    expect(r.token).not.toBe(stale);
    expect(as.tokenRequests("client_credentials") - minted).toBe(0);
  });

  it("a second 401 after the refresh is an ApiError (one retry only)", async () => {
    const client = createClient(spec);
    api.handler = (_r, res) => json(res, 401, { error: "invalid_token" });
    const err = await run(() => client.request(op)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401 });
    expect(api.seen).toHaveLength(2);
  });
});
