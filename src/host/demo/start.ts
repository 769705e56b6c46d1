/**
 * `bifrost dev --demo`: where the demo database lives, and starting the demo (its authorization server
 * on a loopback port, then the seed). The dev command calls these; everything runs in the dev process.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DemoTargetNotEmptyError } from "../../core/errors.js";
import type { Deps } from "../../kernel/deps.js";
import { startDemoAuthServer } from "./auth-server.js";
import { type DemoSeedSummary, demoClients, demoScopes, seedDemo } from "./seed.js";

/** The demo home when BIFROST_HOME is not set: relative to the working directory, like ./.bifrost. */
const DEFAULT_DEMO_HOME = ".bifrost-demo";
/** Written into a demo home the demo made, so a later start may recreate it (and nothing else). */
const MARKER = "DEMO-HOME";
/** What a demo home holds: the SQLite files and the development keyring. */
const DEMO_FILES = ["bifrost.db", "bifrost.db-wal", "bifrost.db-shm", "keyring.json"];

export interface DemoHome {
  home: string;
  /** True for the default demo home, recreated on every start; false for the user's BIFROST_HOME. */
  recreated: boolean;
}

/**
 * The folder the demo database lives in. BIFROST_HOME when the user set it (its database must be
 * empty: the seed refuses otherwise); else ./.bifrost-demo, emptied first when an earlier demo made
 * it — the demo's authorization server keeps its tokens in memory, so a previous run's are dead.
 */
export function prepareDemoHome(env: NodeJS.ProcessEnv, cwd = process.cwd()): DemoHome {
  if (env.BIFROST_HOME) return { home: resolve(cwd, env.BIFROST_HOME), recreated: false };
  const home = resolve(cwd, DEFAULT_DEMO_HOME);
  if (existsSync(home)) {
    const entries = readdirSync(home);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new DemoTargetNotEmptyError(`${home} exists and was not made by bifrost dev --demo; nothing was changed. Move it away, or set BIFROST_HOME to an empty folder for the demo.`, { home });
    }
    for (const f of DEMO_FILES) rmSync(join(home, f), { force: true });
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, MARKER), "Made by `bifrost dev --demo`; recreated on every start.\n");
  return { home, recreated: true };
}

export interface RunningDemo {
  issuer: string;
  summary: DemoSeedSummary;
  close(): Promise<void>;
}

/** Start the demo authorization server (callbacks to `publicUrl`) and seed `orgs` organizations (default 200). */
export async function startDemo(deps: Deps, opts: { publicUrl: string; orgs?: number }): Promise<RunningDemo> {
  const clients = demoClients(opts.publicUrl);
  const as = await startDemoAuthServer({ clients, scopes: demoScopes() });
  try {
    const summary = await seedDemo(deps, { ...(opts.orgs !== undefined ? { orgs: opts.orgs } : {}), authServer: as, clients, oauth: { publicUrl: opts.publicUrl } });
    return { issuer: as.issuer, summary, close: () => as.close() };
  } catch (err) {
    await as.close();
    throw err;
  }
}
