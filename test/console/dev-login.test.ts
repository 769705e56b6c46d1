/**
 * Dev login (`bifrost dev`): the routes do not exist (404) under createApp/startServer defaults; with
 * devLogin they create a platform_admin session without a key (one reusable "bifrost dev login" key,
 * header required against login CSRF); startServer refuses devLogin off loopback; `bifrost dev --help`.
 */
import { spawnSync } from "node:child_process";
import { Command, CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerDev } from "../../src/cli/commands/dev.js";
import { DEV_LOGIN_KEY_NAME } from "../../src/server/console/routes.js";
import { createApp, startServer } from "../../src/server/index.js";
import { createLogger } from "../../src/logger.js";
import { sqliteBackend } from "../helpers/backends.js";
import { envelope, type Harness, setup } from "../server/harness.js";

describe("console dev login", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup(sqliteBackend);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is 404 under createApp defaults and startServer defaults", async () => {
    envelope(await h.app.inject({ method: "GET", url: "/api/session/dev" }), 404, "BIFROST_NOT_FOUND");
    envelope(await h.app.inject({ method: "POST", url: "/api/session/dev", headers: { "x-bifrost-dev-login": "1" } }), 404, "BIFROST_NOT_FOUND");
    const s = await startServer({ bifrost: h.bf, port: 0, background: false, logger: createLogger({ level: "silent" }) });
    try {
      const res = await fetch(`${s.url}/api/session/dev`, { method: "POST", headers: { "x-bifrost-dev-login": "1" } });
      expect(res.status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("with devLogin: creates a platform_admin session without a key, reusing one dev key", async () => {
    const app = await createApp({ bifrost: h.bf, devLogin: true });
    try {
      expect((await app.inject({ method: "GET", url: "/api/session/dev" })).json()).toEqual({ dev_login: true });
      envelope(await app.inject({ method: "POST", url: "/api/session/dev" }), 403, "BIFROST_FORBIDDEN");
      const login = await app.inject({ method: "POST", url: "/api/session/dev", headers: { "x-bifrost-dev-login": "1" } });
      expect(login.statusCode, login.body).toBe(201);
      const cookie = String(login.headers["set-cookie"]);
      expect(cookie).toMatch(/HttpOnly/);
      const id = /bifrost_session=([^;]*)/.exec(cookie)![1];
      const who = await app.inject({ method: "GET", url: "/api/session", headers: { cookie: `bifrost_session=${id}` } });
      expect(who.json()).toMatchObject({ role: "platform_admin", org: null, via: "session" });
      // CSRF applies as for any session.
      const csrf = login.json().csrf_token as string;
      const org = await app.inject({ method: "POST", url: "/api/organizations", headers: { cookie: `bifrost_session=${id}`, "x-csrf-token": csrf }, payload: { slug: "dev-made" } });
      expect(org.statusCode, org.body).toBe(201);
      await app.inject({ method: "POST", url: "/api/session/dev", headers: { "x-bifrost-dev-login": "1" } });
      const devKeys = (await h.bf.store.listApiKeys()).filter((k) => k.name === DEV_LOGIN_KEY_NAME);
      expect(devKeys).toHaveLength(1);
      expect(devKeys[0]!.role).toBe("platform_admin");
    } finally {
      await app.close();
    }
  });

  it("startServer refuses devLogin on a non-loopback interface", async () => {
    await expect(startServer({ bifrost: h.bf, port: 0, host: "0.0.0.0", background: false, devLogin: true })).rejects.toMatchObject({ code: "BIFROST_VALIDATION" });
    const s = await startServer({ bifrost: h.bf, port: 0, host: "127.0.0.1", background: false, devLogin: true, logger: createLogger({ level: "silent" }) });
    try {
      const res = await fetch(`${s.url}/api/session/dev`, { method: "POST", headers: { "x-bifrost-dev-login": "1" } });
      expect(res.status).toBe(201);
    } finally {
      await s.close();
    }
  });

  it("`bifrost dev --help` exists (registered in the CLI) and lists --port", () => {
    const program = new Command("bifrost").exitOverride();
    let out = "";
    program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    registerDev(program);
    const dev = program.commands.find((c) => c.name() === "dev")!;
    dev.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    expect(() => program.parse(["node", "bifrost", "dev", "--help"])).toThrow(CommanderError);
    expect(out).toMatch(/--port <port>/);
    expect(out).toMatch(/dev login/);
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "dev", "--help"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Usage: bifrost dev/);
    expect(r.stdout).toMatch(/--port/);
  }, 60_000);
});
