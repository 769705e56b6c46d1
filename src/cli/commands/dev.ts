/**
 * `bifrost dev`: the server of `serve` for local development. Always the embedded SQLite database in
 * BIFROST_HOME (DATABASE_URL is ignored) with the development keyring (BIFROST_KEYRING_FILE /
 * BIFROST_KEYRING are ignored), bound to 127.0.0.1, and the console's "Dev login" enabled: anyone who
 * can reach the loopback port is a platform_admin. Loud warning on start.
 */
import type { Command } from "commander";
import { cliWarn, parsePort } from "../context.js";
import type { JsonFlag } from "../output.js";
import { defaultPort, resolveWorkflowsDir, runServer } from "./serve.js";

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

export function registerDev(program: Command): void {
  program
    .command("dev")
    .description("run the server for local development: SQLite, development keyring, 127.0.0.1 only, console dev login (no API key)")
    .option("--port <port>", "port (default: $PORT or 3000)", parsePort)
    .option("--workflows <dir>", "folder of workflow files (default $BIFROST_WORKFLOWS_DIR, else ./workflows when it exists)")
    .option("--json", "machine-readable start-up line (server logs go to stderr)")
    .action(async (opts: JsonFlag & { port?: number; workflows?: string }) => {
      process.stderr.write(`${BANNER}\n`);
      const ignored = ["DATABASE_URL", "BIFROST_KEYRING_FILE", "BIFROST_KEYRING"].filter((v) => process.env[v]);
      if (ignored.length > 0) cliWarn(`bifrost dev ignores ${ignored.join(", ")} (dev mode always uses the embedded SQLite database and the development keyring).`);
      const env = devEnv();
      // The keyring loader deletes BIFROST_KEYRING from the env it reads; do the same for the real one so child processes do not inherit it.
      delete process.env.BIFROST_KEYRING;
      await runServer({
        ...opts,
        port: defaultPort(opts.port),
        host: DEV_HOST,
        workflowsDir: resolveWorkflowsDir(opts.workflows),
        boot: { env, allowCreateDevKeyring: true, warn: (m) => cliWarn(`DEV MODE: ${m}`) },
        devLogin: true,
        extraLines: ["  dev login: ON (console sign-in page → Dev login; loopback only). Do not expose this server."],
      });
    });
}
