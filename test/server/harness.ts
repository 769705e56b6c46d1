import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { createApp, type ServerOptions } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { type Backend, bootTest } from "../helpers/backends.js";

export const SECRET_DEFAULT = "sk-default-PLAINTEXT-4f1c9a";
export const SECRET_ACME = "sk-acme-PLAINTEXT-77ab20";

export interface Harness {
  bf: Bifrost;
  app: FastifyInstance;
  keys: { platform: string; acmeAdmin: string; acmeWorkflow: string; globexAdmin: string; globexWorkflow: string };
  call(method: string, url: string, key: string | null, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
  /** What another process needs to open the same store: the PostgreSQL URL (absent on SQLite) and the keyring. */
  url?: string;
  keyringJson: string;
}

/**
 * A booted store with two orgs (acme, globex), integration "HaloPSA" with a secret default,
 * acme mapped with a secret override, and one key of each role.
 */
export async function setup(backend: Backend, opts: Partial<ServerOptions> = {}): Promise<Harness> {
  const t = await bootTest(backend);
  const bf = t.bf;
  await createOrg(bf, { slug: "acme", name: "Acme" });
  await createOrg(bf, { slug: "globex", name: "Globex" });
  await createIntegration(bf, {
    name: "HaloPSA",
    description: "PSA",
    configSchema: [
      { key: "base_url", type: "string", required: true },
      { key: "timeout", type: "int", required: false },
      { key: "api_secret", type: "secret", required: false },
      { key: "extra", type: "json", required: false },
    ],
    defaults: { base_url: "https://halo.example.com", timeout: 30, api_secret: SECRET_DEFAULT },
  });
  await setMapping(bf, "HaloPSA", "acme", { entityId: "T-1", entityName: "Acme Ltd", config: { timeout: "60", api_secret: SECRET_ACME } });
  const key = async (role: string, org?: string) => (await createApiKey(bf, { role, ...(org ? { org } : {}) })).key;
  const keys = {
    platform: await key("platform_admin"),
    acmeAdmin: await key("org_admin", "acme"),
    acmeWorkflow: await key("workflow", "acme"),
    globexAdmin: await key("org_admin", "globex"),
    globexWorkflow: await key("workflow", "globex"),
  };
  const app = await createApp({ bifrost: bf, ...opts });
  return {
    bf,
    app,
    keys,
    call(method, url, k, body) {
      return app.inject({
        method: method as "GET",
        url,
        headers: {
          ...(k ? { authorization: `Bearer ${k}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { payload: typeof body === "string" ? body : JSON.stringify(body) }),
      });
    },
    async close() {
      await app.close();
      await t.cleanup();
    },
    ...(t.url ? { url: t.url } : {}),
    keyringJson: t.keyringJson,
  };
}

/** Assert the common error envelope and return it. */
export function envelope(res: LightMyRequestResponse, status: number, code: string): { statusCode: number; code: string; message: string; details?: Record<string, unknown> } {
  const body = res.json() as { statusCode: number; code: string; message: string; details?: Record<string, unknown> };
  if (res.statusCode !== status || body.statusCode !== status || body.code !== code || typeof body.message !== "string") {
    throw new Error(`expected ${status} ${code}, got ${res.statusCode}: ${res.body.slice(0, 500)}`);
  }
  const extra = Object.keys(body).filter((k) => !["statusCode", "code", "message", "details"].includes(k));
  if (extra.length > 0) throw new Error(`unexpected envelope fields ${extra.join(", ")}`);
  return body;
}
