/**
 * The README's quick tour, run as written against the files in examples/: the shell block's commands
 * are read from README.md, so the tour and this test cannot drift apart. `run` and `serve` run as
 * child processes (workflow loading and a listening server); the other commands run in this process.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLES = join(ROOT, "examples");
const BIN = join(ROOT, "bin/bifrost.js");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** Shell words of one command line: whitespace-separated, '…' quoted, trailing comment removed. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s+#.*$/, "").matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? (m[3] as string));
  return out;
}

/** The commands of the tour's sh block, in order. */
function tourCommands(): string[] {
  const tour = README.slice(README.indexOf("## Quick tour"));
  const block = /```sh\n([\s\S]*?)```/.exec(tour)?.[1] ?? "";
  return block.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

describe("README quick tour on examples/", () => {
  const tmp = tempDir("bifrost-tour-");
  const env = { BIFROST_HOME: join(tmp.dir, "home"), HALO_API_KEY: "" };
  let server: ChildProcess | null = null;
  beforeAll(() => {
    if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before this test (it spawns bin/bifrost.js).");
  });
  afterAll(() => {
    if (server?.exitCode === null) server.kill("SIGTERM");
    tmp.cleanup();
  });

  it("the README shows examples/bifrost.yaml and examples/workflows/sync_data.ts verbatim", () => {
    expect(README).toContain("```yaml\n" + readFileSync(join(EXAMPLES, "bifrost.yaml"), "utf8") + "```");
    expect(README).toContain("```ts\n" + readFileSync(join(EXAMPLES, "workflows/sync_data.ts"), "utf8") + "```");
  });

  it("every command of the tour works as written", async () => {
    const commands = tourCommands();
    expect(commands.map((c) => words(c)[0])).toEqual(["cd", "export", "bifrost", "bifrost", "bifrost", "KEY=$(bifrost", "bifrost", "curl"]);
    const [cd, exportLine, apply, configSet, run, keyLine, serve, curl] = commands as [string, string, string, string, string, string, string, string];
    expect(words(cd)).toEqual(["cd", "examples"]);
    const [name, value] = (words(exportLine)[1] as string).split("=") as [string, string];
    expect(name).toBe("HALO_API_KEY");
    env.HALO_API_KEY = value;
    const cli = (line: string) => runCliInProcess(words(line).slice(1), { cwd: EXAMPLES, env });

    const applied = await cli(apply);
    // Only the development-keyring warning (first use of this BIFROST_HOME).
    expect(applied.stderr.split("\n").filter((l) => l !== "" && !/DEVELOPMENT keyring/.test(l))).toEqual([]);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/created\s+integration\s+HaloPSA/);
    expect((await cli(configSet)).status).toBe(0);

    // `run` loads a TypeScript workflow and installs process-wide guards: its own process.
    const ran = spawnSync(process.execPath, [BIN, ...words(run).slice(1)], { cwd: EXAMPLES, env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 60_000 });
    expect(ran.stderr.split("\n").filter((l) => l !== "" && !/DEVELOPMENT keyring/.test(l))).toEqual([]);
    expect(ran.status).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ base: "https://acme.halo.example.com/api", tenant: "customer-123", timeout: 45, since: "2026-01-01" });

    const inner = /^KEY=\$\((.*)\)$/.exec(keyLine)?.[1] as string;
    const created = await cli(inner);
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^bfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);

    // `bifrost serve &` on a free port (the tour's 3000 may be taken here); the workflow folder is ./workflows.
    expect(words(serve)).toEqual(["bifrost", "serve", "&"]);
    server = spawn(process.execPath, [BIN, "serve", "--port", "0", "--json"], { cwd: EXAMPLES, env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const started = await new Promise<{ url: string; public_url: string; workflows: string }>((ok, fail) => {
      let text = "";
      createInterface({ input: server!.stdout! }).on("line", (l) => {
        text += l;
        try {
          ok(JSON.parse(text) as { url: string; public_url: string; workflows: string });
        } catch {
          /* more lines */
        }
      });
      server!.once("exit", (c) => fail(new Error(`serve exited ${c}`)));
    });
    expect(started.workflows).toBe(join(EXAMPLES, "workflows"));
    // Without BIFROST_PUBLIC_URL the OAuth callback URL is the address the server listens on.
    expect(started.public_url).toBe(started.url);

    const curlWords = words(curl);
    const path = new URL(`http://${curlWords[3] as string}`).pathname;
    expect(path).toBe("/api/workflows/sync_data/run");
    const res = await fetch(`${started.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: '{"input":{}}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { base: "https://acme.halo.example.com/api", tenant: "customer-123", timeout: 45, since: null } });

    server.kill("SIGTERM");
  });
});
