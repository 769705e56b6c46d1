import type { Command } from "commander";
import type { DisplayValue } from "../../core/types.js";
import { PLATFORM_ACTOR } from "../../services/actor.js";

const services = () => import("../../services/mappings.js");
const lookup = () => import("../../kernel/lookup.js");
import { parseAssignments, withBifrost } from "../context.js";
import { describeChange, emit, type JsonFlag, say, showValue, table } from "../output.js";

type OrgFlag = JsonFlag & { org?: string };

function scope(integration: string, org: string | undefined): string {
  return org === undefined ? `${integration} defaults` : `${integration} overrides for ${org}`;
}

export function registerConfig(program: Command): void {
  const cmd = program.command("config").description("integration defaults and per-organization overrides");

  cmd
    .command("set")
    .description("set values (coerced by the schema: timeout=30 becomes an int); without --org sets defaults")
    .argument("<integration>")
    .argument("<assignments...>", "key=value pairs (split on the first '=')")
    .option("--org <slug>", "set this organization's overrides instead of the defaults")
    .option("--json", "machine-readable output")
    .action(async (integration: string, assignments: string[], opts: OrgFlag) => {
      const values = parseAssignments(assignments);
      const { setConfig } = await services();
      const res = await withBifrost((_bf, deps) => setConfig(deps, integration, opts.org ?? null, values, { text: true }, PLATFORM_ACTOR));
      emit(opts, { integration, org: opts.org ?? null, ...res.change, mappingCreated: res.mappingCreated }, () => {
        say(`${scope(integration, opts.org)}: ${describeChange(res.change)}${res.change.unchanged.length ? ` (unchanged: ${res.change.unchanged.join(", ")})` : ""}.`);
        if (res.mappingCreated) say(`  Created a mapping ${integration} → ${opts.org} (set its entity with \`bifrost mappings set ${integration} --org ${opts.org} --entity-id ID\`).`);
      });
    });

  cmd
    .command("unset")
    .description("delete values (an override falls back to the default)")
    .argument("<integration>")
    .argument("<keys...>")
    .option("--org <slug>", "unset this organization's overrides instead of the defaults")
    .option("--json", "machine-readable output")
    .action(async (integration: string, keys: string[], opts: OrgFlag) => {
      const values: Record<string, null> = {};
      for (const k of keys) Object.defineProperty(values, k, { value: null, enumerable: true, writable: true, configurable: true });
      const { setConfig } = await services();
      const res = await withBifrost((_bf, deps) => setConfig(deps, integration, opts.org ?? null, values, {}, PLATFORM_ACTOR));
      emit(opts, { integration, org: opts.org ?? null, ...res.change, mappingCreated: res.mappingCreated }, () =>
        say(`${scope(integration, opts.org)}: ${describeChange(res.change)}${res.change.unchanged.length ? ` (not set: ${res.change.unchanged.join(", ")})` : ""}.`),
      );
    });

  cmd
    .command("get")
    .description("stored values (not merged) of the defaults or one organization; secrets masked")
    .argument("<integration>")
    .option("--org <slug>", "this organization's overrides")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: OrgFlag) => {
      const [{ getStoredConfig }, { requireIntegration }] = await Promise.all([services(), lookup()]);
      const data = await withBifrost(async (_bf, deps) => {
        const integ = await requireIntegration(deps.store, integration);
        const values = await getStoredConfig(deps, integration, opts.org ?? null);
        return { schema: integ.configSchema, values };
      });
      emit(opts, { integration, org: opts.org ?? null, values: data.values }, () => {
        const keys = [...data.schema.map((s) => s.key), ...Object.keys(data.values).filter((k) => !data.schema.some((s) => s.key === k))];
        const rows = keys
          .filter((k) => Object.hasOwn(data.values, k))
          .map((k) => [k, data.schema.find((s) => s.key === k)?.type ?? "?", showValue(data.values[k] as DisplayValue)]);
        say(table(["KEY", "TYPE", "VALUE"], rows, `${scope(integration, opts.org)}: no values stored.`));
      });
    });
}
