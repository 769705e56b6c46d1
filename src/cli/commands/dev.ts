/**
 * `bifrost dev`: the server of `serve` for local development. Always the embedded SQLite database in
 * BIFROST_HOME (DATABASE_URL is ignored) with the development keyring (BIFROST_KEYRING_FILE /
 * BIFROST_KEYRING are ignored), bound to 127.0.0.1, and the console's "Dev login" enabled: anyone who
 * can reach the loopback port is a platform_admin. Loud warning on start.
 *
 * `--demo` loads a demo data set (src/host/demo/) into a demo home (./.bifrost-demo, recreated on every
 * start, or an empty BIFROST_HOME) and runs its OAuth authorization server inside this process, so the
 * console's Connect and Refresh work against it.
 */
import { type Command, InvalidArgumentError } from "commander";
import { ValidationError } from "../../core/errors.js";
import { cliWarn, parsePort } from "../context.js";
import type { JsonFlag } from "../output.js";
import { defaultPort, type Prepared, resolveWorkflowsDir, runServer, type RunServerOptions } from "./serve.js";

const DEV_HOST = "127.0.0.1";

const BANNER = [
  "",
  "  ************************************************************************",
  "  *  BIFROST DEV MODE: NOT FOR PRODUCTION                                *",
  "  *  - embedded SQLite in BIFROST_HOME (DATABASE_URL is ignored)         *",
  "  *  - DEVELOPMENT keyring file (BIFROST_KEYRING[_FILE] are ignored):    *",
  "  *    anyone with that file can read every secret                      *",
  "  *  - console \"Dev login\": a platform_admin session WITHOUT a key, for  *",
  "  *    anyone who can reach 127.0.0.1 on this port                      *",
  "  ************************************************************************",
  "",
].join("\n");

/** The environment dev mode boots from: the caller's, minus the production store and keyring settings. */
function devEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  delete out.DATABASE_URL;
  delete out.BIFROST_KEYRING_FILE;
  delete out.BIFROST_KEYRING;
  return out;
}

/** --demo-orgs: a whole number 1–100,000. */
function parseOrgCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100_000) throw new InvalidArgumentError("expected a whole number of organizations (1-100000).");
  return n;
}

/** What --demo adds to the dev server: the demo home in the boot environment, its AS and seed before the server starts. */
async function demoOptions(env: NodeJS.ProcessEnv, orgs: number | undefined): Promise<Pick<RunServerOptions, "prepare" | "oauth">> {
  const { prepareDemoHome, startDemo } = await import("../../host/demo/start.js");
  const home = prepareDemoHome(env);
  env.BIFROST_HOME = home.home;
  const prepare = async ({ bifrost, publicUrl }: { bifrost: Parameters<typeof startDemo>[0]; publicUrl: string }): Promise<Prepared> => {
    const demo = await startDemo(bifrost, { publicUrl, ...(orgs !== undefined ? { orgs } : {}) });
    const s = demo.summary;
    return {
      lines: [
        `  demo:      ${s.organizations} organizations, integrations ${s.integrations.join(", ")} (seeded in ${(s.ms / 1000).toFixed(1)} s)`,
        `  demo home: ${home.home} (${home.recreated ? "recreated on every start; set BIFROST_HOME to use another empty folder" : "BIFROST_HOME"})`,
        `  demo OAuth server: ${demo.issuer} (in this process; Connect and Refresh in the console use it)`,
      ],
      json: { demo: { home: home.home, organizations: s.organizations, integrations: s.integrations, connections: s.connections, seeded_ms: s.ms, authorization_server: demo.issuer } },
      close: () => demo.close(),
    };
  };
  // The demo's authorization server speaks http on loopback.
  return { prepare, oauth: { allowHttpLoopback: true } };
}

export function registerDev(program: Command): void {
  program
    .command("dev")
    .description("run the server for local development: SQLite, development keyring, 127.0.0.1 only, console dev login (no API key)")
    .option("--port <port>", "port (default: $PORT or 3000)", parsePort)
    .option("--workflows <dir>", "folder of workflow files (default $BIFROST_WORKFLOWS_DIR, else ./workflows when it exists)")
    .option("--json", "machine-readable start-up line (server logs go to stderr)")
    .option("--demo", "load demo data (organizations, catalog integrations, connections in every state) with an OAuth server in this process; needs the development dependencies")
    .option("--demo-orgs <n>", "organizations in the demo data (default 200)", parseOrgCount)
    .action(async (opts: JsonFlag & { port?: number; workflows?: string; demo?: boolean; demoOrgs?: number }) => {
      process.stderr.write(`${BANNER}\n`);
      const ignored = ["DATABASE_URL", "BIFROST_KEYRING_FILE", "BIFROST_KEYRING"].filter((v) => process.env[v]);
      if (ignored.length > 0) cliWarn(`bifrost dev ignores ${ignored.join(", ")} (dev mode always uses the embedded SQLite database and the development keyring).`);
      const env = devEnv();
      // The keyring loader deletes BIFROST_KEYRING from the env it reads; do the same for the real one so child processes do not inherit it.
      delete process.env.BIFROST_KEYRING;
      if (opts.demoOrgs !== undefined && !opts.demo) throw new ValidationError("--demo-orgs needs --demo (the number of organizations of the demo data).", { option: "--demo-orgs" });
      const demo = opts.demo ? await demoOptions(env, opts.demoOrgs) : {};
      const { demo: _demo, demoOrgs: _orgs, ...rest } = opts;
      await runServer({
        ...rest,
        ...demo,
        port: defaultPort(opts.port),
        host: DEV_HOST,
        workflowsDir: resolveWorkflowsDir(opts.workflows),
        boot: { env, allowCreateDevKeyring: true, warn: (m) => cliWarn(`DEV MODE: ${m}`) },
        devLogin: true,
        extraLines: ["  dev login: ON (console sign-in page → Dev login; loopback only). Do not expose this server."],
      });
    });
}
