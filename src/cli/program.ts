/**
 * The `bifrost` command line. It works directly on the store configured by the environment
 * (BIFROST_HOME / DATABASE_URL, BIFROST_KEYRING_FILE / BIFROST_KEYRING).
 *
 * Defining the commands is cheap: each command module imports only commander and small helpers at
 * the top; what an action needs (the store, the server, the generator) is imported inside the action.
 *
 * Exit codes: 0 ok, 1 error (BifrostError or unexpected), 2 usage error.
 */
import { Command, CommanderError } from "commander";
import { packageVersion } from "../core/package-info.js";
import { reportError } from "./output.js";
import { LOCAL_CLI_CONTEXT, withAuditContext } from "../kernel/audit.js";

type Register = (program: Command) => void;

/**
 * Each top-level command and the function defining it, in help order. A command line whose first
 * argument names one of them defines only that command (its module alone is evaluated: part of every
 * command's start-up); anything else (`--help`, `help`, `-V`, an unknown or misspelt command, a leading
 * option) defines them all, so help, suggestions and errors are those of the full program.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ["serve", async () => (await import("./commands/serve.js")).registerServe],
  ["dev", async () => (await import("./commands/dev.js")).registerDev],
  ["migrate", async () => (await import("./commands/migrate.js")).registerMigrate],
  // `apply` and `export`: one module, one function defining both.
  ["apply", async () => (await import("./commands/apply.js")).registerApply],
  ["export", async () => (await import("./commands/apply.js")).registerApply],
  ["import", async () => (await import("./commands/move.js")).registerImport],
  ["catalog", async () => (await import("./commands/catalog.js")).registerCatalog],
  ["orgs", async () => (await import("./commands/orgs.js")).registerOrgs],
  ["integrations", async () => (await import("./commands/integrations.js")).registerIntegrations],
  ["config", async () => (await import("./commands/config.js")).registerConfig],
  ["mappings", async () => (await import("./commands/mappings.js")).registerMappings],
  ["keys", async () => (await import("./commands/keys.js")).registerKeys],
  ["keyring", async () => (await import("./commands/keyring.js")).registerKeyring],
  ["audit", async () => (await import("./commands/audit.js")).registerAudit],
  ["oauth", async () => (await import("./commands/oauth.js")).registerOAuth],
  ["events", async () => (await import("./commands/oauth.js")).registerEvents],
  ["run", async () => (await import("./commands/run.js")).registerRun],
  ["sdk", async () => (await import("./commands/sdk.js")).registerSdk],
  ["types", async () => (await import("./commands/types.js")).registerTypes],
  ["mcp", async () => (await import("./commands/mcp.js")).registerMcp],
];

/** The program; `only` (a top-level command's name) defines just that command. Exported for the test that checks COMMANDS. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command("bifrost");
  program
    .description("Bifrost Integrations: typed per-organization integration config, secrets and entity mappings for workflow code.")
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true);
  const one = COMMANDS.find(([name]) => name === only);
  const registers = await Promise.all((one ? [one] : COMMANDS).map(([, load]) => load()));
  for (const register of new Set(registers)) register(program);
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const json = argv.slice(2).includes("--json");
  try {
    // Every command acts as the local CLI in the audit trail (a server started here attributes its own requests).
    await withAuditContext(LOCAL_CLI_CONTEXT, async () => (await buildProgram(argv[2])).parseAsync([...argv]));
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      // Commander already printed the usage message on stderr; --json callers also get the envelope.
      if (json) process.stdout.write(`${JSON.stringify({ statusCode: 400, code: "BIFROST_USAGE", message: err.message.replace(/^error: /, "") })}\n`);
      return 2;
    }
    return reportError(err, json);
  }
}
