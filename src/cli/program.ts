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
import { registerApply } from "./commands/apply.js";
import { registerAudit } from "./commands/audit.js";
import { registerCatalog } from "./commands/catalog.js";
import { registerConfig } from "./commands/config.js";
import { registerDev } from "./commands/dev.js";
import { registerIntegrations } from "./commands/integrations.js";
import { registerKeyring } from "./commands/keyring.js";
import { registerKeys } from "./commands/keys.js";
import { registerMappings } from "./commands/mappings.js";
import { registerMcp } from "./commands/mcp.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerImport } from "./commands/move.js";
import { registerEvents, registerOAuth } from "./commands/oauth.js";
import { registerOrgs } from "./commands/orgs.js";
import { registerRun } from "./commands/run.js";
import { registerSdk } from "./commands/sdk.js";
import { registerServe } from "./commands/serve.js";
import { registerTypes } from "./commands/types.js";
import { reportError } from "./output.js";
import { LOCAL_CLI_CONTEXT, withAuditContext } from "../kernel/audit.js";

function buildProgram(): Command {
  const program = new Command("bifrost");
  program
    .description("Bifrost Integrations: typed per-organization integration config, secrets and entity mappings for workflow code.")
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true);
  registerServe(program);
  registerDev(program);
  registerMigrate(program);
  registerApply(program);
  registerImport(program);
  registerCatalog(program);
  registerOrgs(program);
  registerIntegrations(program);
  registerConfig(program);
  registerMappings(program);
  registerKeys(program);
  registerKeyring(program);
  registerAudit(program);
  registerOAuth(program);
  registerEvents(program);
  registerRun(program);
  registerSdk(program);
  registerTypes(program);
  registerMcp(program);
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const json = argv.slice(2).includes("--json");
  try {
    // Every command acts as the local CLI in the audit trail (a server started here attributes its own requests).
    await withAuditContext(LOCAL_CLI_CONTEXT, () => buildProgram().parseAsync([...argv]));
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
