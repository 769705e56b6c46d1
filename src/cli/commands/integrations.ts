import type { Command } from "commander";
import { readSchemaArg, withBifrost } from "../context.js";
import { describeChange, emit, type JsonFlag, say, showValue, table } from "../output.js";

/** `--trusted-origins a,b` → list ('' clears); `--private-network true|false` → boolean (anything else is refused by the service). */
function trustOptions(opts: { trustedOrigins?: string; privateNetwork?: string }): { trustedOrigins?: unknown; privateNetwork?: unknown } {
  return {
    ...(opts.trustedOrigins === undefined ? {} : { trustedOrigins: opts.trustedOrigins.split(",").map((o) => o.trim()).filter((o) => o !== "") }),
    ...(opts.privateNetwork === undefined ? {} : { privateNetwork: opts.privateNetwork === "true" ? true : opts.privateNetwork === "false" ? false : opts.privateNetwork }),
  };
}

const TRUSTED_HELP = "comma-separated origins (https://host[:port]) that integration-level credentials may also go to; '' clears";
const PRIVATE_HELP = "true lets outbound calls reach private ranges (on-premises servers; never link-local or metadata)";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const services = () => import("../../services/integrations.js");

export function registerIntegrations(program: Command): void {
  const cmd = program.command("integrations").description("manage integrations (config schema, defaults)");

  cmd
    .command("create")
    .description("create an integration")
    .argument("<name>", "e.g. HaloPSA")
    .option("--description <text>")
    .option("--schema <file-or-json>", "config schema: a YAML/JSON file or inline JSON list of { key, type, required? }")
    .option("--trusted-origins <origins>", TRUSTED_HELP)
    .option("--private-network <true|false>", PRIVATE_HELP)
    .option("--json", "machine-readable output")
    .action(async (name: string, opts: JsonFlag & { description?: string; schema?: string; trustedOrigins?: string; privateNetwork?: string }) => {
      const schema = opts.schema === undefined ? undefined : readSchemaArg(opts.schema);
      const view = await withBifrost(async (_bf, deps) =>
        (await services()).createIntegration(deps, { name, ...(opts.description === undefined ? {} : { description: opts.description }), ...(schema === undefined ? {} : { configSchema: schema }), ...trustOptions(opts) }),
      );
      emit(opts, { integration: view }, () => say(`Created integration ${view.name} (${view.configSchema.length} config key(s)).`));
    });

  cmd
    .command("list")
    .description("list integrations")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag) => {
      const all = await withBifrost(async (_bf, deps) => (await services()).listIntegrations(deps));
      emit(opts, { integrations: all }, () =>
        say(
          table(
            ["NAME", "KEYS", "DEFAULTS", "MAPPINGS", "DESCRIPTION"],
            all.map((i) => [i.name, i.configSchema.length, Object.keys(i.defaults).length, i.mappingCount, i.description]),
            "No integrations yet. Create one with `bifrost integrations create NAME` or `bifrost apply bifrost.yaml`.",
          ),
        ),
      );
    });

  cmd
    .command("show")
    .description("show an integration: schema and defaults (secrets masked)")
    .argument("<name>")
    .option("--json", "machine-readable output")
    .action(async (name: string, opts: JsonFlag) => {
      const view = await withBifrost(async (_bf, deps) => (await services()).getIntegration(deps, name));
      emit(opts, { integration: view }, () => {
        say(`${view.name}${view.description ? `  ${view.description}` : ""}\n  ${view.mappingCount} mapping(s), updated ${view.updatedAt}`);
        if (view.trustedOrigins.length) say(`  trusted origins: ${view.trustedOrigins.join(", ")}`);
        say(`  private network: ${view.privateNetwork ? "allowed" : "no"}\n`);
        say(
          table(
            ["KEY", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"],
            view.configSchema.map((s) => [s.key, s.options ? `${s.type} (${s.options.join("|")})` : s.type, s.required ? "yes" : "no", showValue(view.defaults[s.key]), s.description]),
            "No config keys.",
          ),
        );
      });
    });

  cmd
    .command("update")
    .description("rename, describe or change the config schema (refused if it would delete stored values, unless --force)")
    .argument("<name>")
    .option("--name <new-name>", "rename")
    .option("--description <text>", "new description ('' clears it)")
    .option("--schema <file-or-json>", "replace the config schema")
    .option("--trusted-origins <origins>", TRUSTED_HELP)
    .option("--private-network <true|false>", PRIVATE_HELP)
    .option("--force", "delete stored values that the new schema makes invalid")
    .option("--json", "machine-readable output")
    .action(async (name: string, opts: JsonFlag & { name?: string; description?: string; schema?: string; trustedOrigins?: string; privateNetwork?: string; force?: boolean }) => {
      const schema = opts.schema === undefined ? undefined : readSchemaArg(opts.schema);
      const res = await withBifrost(async (_bf, deps) =>
        (await services()).updateIntegration(deps, name, {
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(schema === undefined ? {} : { configSchema: schema }),
          ...trustOptions(opts),
          force: opts.force === true,
        }),
      );
      emit(opts, res, () => {
        if (!res.changed) say(`Integration ${res.integration.name}: no changes.`);
        else say(`Updated integration ${res.integration.name}${res.schemaChanged ? " (config schema replaced" + (res.deletedValues ? `, ${res.deletedValues} stored value(s) deleted)` : ")") : ""}.`);
        if (res.defaults.set.length || res.defaults.unset.length) say(`  defaults: ${describeChange(res.defaults)}`);
      });
    });

  cmd
    .command("delete")
    .description("delete an integration (refused while it has mappings, unless --force)")
    .argument("<name>")
    .option("--force", "also delete its mappings and overrides")
    .option("--json", "machine-readable output")
    .action(async (name: string, opts: JsonFlag & { force?: boolean }) => {
      const res = await withBifrost(async (_bf, deps) => (await services()).deleteIntegration(deps, name, { force: opts.force === true }));
      emit(opts, { deleted: name, ...res }, () => say(`Deleted integration ${name}${res.deletedMappings ? ` and ${res.deletedMappings} mapping(s)` : ""}.`));
    });
}
