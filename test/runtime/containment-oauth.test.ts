/**
 * Integration reads inside workflow workers keep today's semantics: the worker's resolver is the host
 * thread's resolver, so concurrent executions in several workers on an expired OAuth token cause one
 * refresh at the provider, all see the same new token, and each worker's console output is redacted
 * with its own execution's secrets before it leaves the worker.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowRunner } from "../../src/host/workflow-pool.js";
import { workflowLimits } from "../../src/host/workflow-limits.js";
import type { StoreResolver } from "../../src/host/store-resolver.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import type { WorkflowOutput } from "../../src/runtime/types.js";
import { completeAuthorization, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { BACKENDS, bootTest, tempDir } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { oauthDeps, resolverFor, seed } from "../oauth/helpers/setup.js";

const SDK = JSON.stringify(resolve(import.meta.dirname, "../../src/index.ts"));
const WORKFLOW = `import { createHash } from "node:crypto";
import { workflow, integrations } from ${SDK};
export default workflow("token_user", async () => {
  const halo = await integrations.require("Halo");
  const token = halo.oauth?.accessToken ?? "";
  console.log("using token", token);
  return { token_hash: createHash("sha256").update(token).digest("hex").slice(0, 16), connected: halo.connection?.state ?? null };
});
`;

describe.each(BACKENDS)("workflow workers share the host's resolver on $name", (backend) => {
  let as: AuthServer;
  let t: Awaited<ReturnType<typeof bootTest>>;
  let resolver: StoreResolver;
  let acme: ExecutionOrg;
  const tmp = tempDir("bifrost-contain-oauth-");
  const file = join(tmp.dir, "wf", "token_user.ts");

  beforeAll(async () => {
    mkdirSync(join(tmp.dir, "wf"));
    writeFileSync(file, WORKFLOW);
    as = await startAuthServer({ integrations: ["Halo"] });
    t = await bootTest(backend);
    await seed(t.bf, ["Halo"], ["acme"]);
    await setOAuthProvider(t.bf, "Halo", { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read"] });
    const started = await startAuthorization(oauthDeps(t.bf), { integration: "Halo", org: "acme", initiatorKeyId: null });
    await completeAuthorization(oauthDeps(t.bf), { integration: "Halo", query: (await driveAuthorization(started.authorizationUrl)).searchParams });
    resolver = resolverFor(t.bf, { skewSeconds: 60 });
    acme = (await t.bf.resolver.findOrg("acme")) as ExecutionOrg;
  });
  afterAll(async () => {
    await t?.cleanup();
    await as?.close();
    tmp.cleanup();
  });

  it("executions in 3 workers on an expired token → 1 refresh, one new token; console output redacted in the worker", async () => {
    const runner = new WorkflowRunner({ limits: workflowLimits({}, { concurrency: 3 }) });
    try {
      for (const tok of await t.bf.store.listOAuthTokens({})) {
        await t.bf.store.updateOAuthToken(tok.id, { expiresAt: new Date(Date.now() - 5000).toISOString(), updatedAt: new Date().toISOString() });
      }
      as.reset();
      const outputs: WorkflowOutput[] = [];
      // Three principals (three API keys of acme) → three workers, running at once.
      const runs = await Promise.all(
        [0, 1, 2, 0, 1, 2].map((k) =>
          runner.runFile(file, undefined, {}, { org: acme, caller: { kind: "api_key", platform: false, keyId: `key-${k}` }, resolver, output: (o) => outputs.push(o) }),
        ),
      );
      expect(runner.workers).toBeGreaterThanOrEqual(3);
      expect(as.tokenRequests("refresh_token")).toBe(1);
      const hashes = new Set(runs.map((r) => (r.result as { token_hash: string }).token_hash));
      expect(hashes.size).toBe(1);
      expect(runs.every((r) => (r.result as { connected: string }).connected === "connected")).toBe(true);
      // The token the workflows printed never left a worker in clear.
      const token = (await resolver.resolve("Halo", acme))?.oauth?.accessToken as string;
      expect(token.length).toBeGreaterThan(8);
      expect(outputs).toHaveLength(6);
      for (const o of outputs) {
        expect(o.text).toBe("using token [REDACTED]");
        expect(runs.map((r) => r.executionId)).toContain(o.executionId);
      }
      expect(JSON.stringify(outputs)).not.toContain(token);
    } finally {
      await runner.close();
    }
  });
});
