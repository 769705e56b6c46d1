import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openBifrost } from "../../src/host/bootstrap.js";
import { loadProvider, tokenSecretContext } from "../../src/oauth/tokens.js";
import { secretContext } from "../../src/services/config-values.js";
import { tempDir } from "../helpers/backends.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "bifrost.js");

/**
 * `bifrost dev --demo` through the built CLI (the process boundary is the point: the bundle loads
 * oidc-provider with importEsm and runs the authorization server in the dev process): it reaches
 * /readyz, the API lists the 200 demo organizations, it stops on SIGTERM, and nothing it printed holds
 * a secret of the demo database (every token, client secret and API key, decrypted afterwards).
 */
describe("bifrost dev --demo (built CLI)", () => {
  const t = tempDir("bifrost-demo-");
  afterAll(() => t.cleanup());

  it("starts with 200 organizations, serves them over the API, stops cleanly, and prints no secret", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production" };
    delete env.BIFROST_HOME;
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [BIN, "dev", "--demo", "--port", "0", "--json"], { cwd: t.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = once(child, "exit") as Promise<[number | null]>;
    const started = await new Promise<{ url: string; demo: { home: string; organizations: number; authorization_server: string } }>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        try {
          resolve(JSON.parse(out));
        } catch {
          // not complete yet
        }
      });
      void exited.then(([code]) => reject(new Error(`dev --demo exited with ${code}: ${err}`)));
    });
    try {
      expect(started.demo).toMatchObject({ home: join(t.dir, ".bifrost-demo"), organizations: 200 });
      expect(started.demo.authorization_server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(join(t.dir, ".bifrost-demo", "bifrost.db"))).toBe(true);

      const ready = await fetch(`${started.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready" });

      const login = await fetch(`${started.url}/api/session/dev`, { method: "POST", headers: { "x-bifrost-dev-login": "1" } });
      const cookie = /bifrost_session=[^;]*/.exec(String(login.headers.get("set-cookie")))![0];
      const slugs: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await fetch(`${started.url}/api/organizations${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`, { headers: { cookie } });
        expect(res.status).toBe(200);
        const page = (await res.json()) as { organizations: Array<{ slug: string }>; next_cursor?: string | null };
        slugs.push(...page.organizations.map((o) => o.slug));
        cursor = page.next_cursor ?? null;
      } while (cursor);
      expect(new Set(slugs).size).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect((await exited)[0]).toBe(0);

    // Every secret the demo database holds, decrypted with the demo home's development keyring.
    const bf = await openBifrost({ env: { BIFROST_HOME: join(t.dir, ".bifrost-demo") }, allowCreateDevKeyring: false, warn: () => undefined });
    const secrets: string[] = [];
    try {
      for (const integration of await bf.store.listIntegrations()) {
        const provider = await bf.store.getOAuthProvider(integration.id);
        if (provider) secrets.push(loadProvider(bf.box, provider).clientSecret);
        for (const v of await bf.store.listConfigValues(integration.id)) if (v.isSecret) secrets.push(bf.box.decrypt(v.value, secretContext(v)));
        for (const tok of await bf.store.listOAuthTokens({ integrationId: integration.id })) {
          if (tok.accessToken) secrets.push(bf.box.decrypt(tok.accessToken, tokenSecretContext(tok, "access_token")));
          if (tok.refreshToken) secrets.push(bf.box.decrypt(tok.refreshToken, tokenSecretContext(tok, "refresh_token")));
        }
      }
    } finally {
      await bf.close();
    }
    // Positive control: the secrets are there (3 client secrets, ~170 Hudu keys, hundreds of tokens).
    expect(secrets.length).toBeGreaterThan(400);
    const printed = out + err;
    expect(printed).toContain("DEV MODE");
    expect(secrets.filter((s) => printed.includes(s))).toEqual([]);
  }, 60_000);
});
