import type { Command } from "commander";
import { PLATFORM_ACTOR } from "../../services/actor.js";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say, table } from "../output.js";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const services = () => import("../../services/mappings.js");

export function registerMappings(program: Command): void {
  const cmd = program.command("mappings").description("map organizations to an integration's external entity");

  cmd
    .command("set")
    .description("create or update an organization's mapping ('' clears a field)")
    .argument("<integration>")
    .requiredOption("--org <slug>", "organization")
    .option("--entity-id <id>", "external tenant/company id")
    .option("--entity-name <name>", "external display name")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: JsonFlag & { org: string; entityId?: string; entityName?: string }) => {
      const res = await withBifrost(async (_bf, deps) =>
        (await services()).setMapping(deps, integration, opts.org, {
          ...(opts.entityId === undefined ? {} : { entityId: opts.entityId }),
          ...(opts.entityName === undefined ? {} : { entityName: opts.entityName }),
        }, PLATFORM_ACTOR),
      );
      emit(opts, { mapping: res.mapping, created: res.created, changed: res.changed }, () =>
        say(`${res.created ? "Created" : res.changed ? "Updated" : "Unchanged:"} mapping ${integration} → ${opts.org} (entity ${res.mapping.entityId ?? "-"}${res.mapping.entityName ? `, ${res.mapping.entityName}` : ""}).`),
      );
    });

  cmd
    .command("list")
    .description("list an integration's mappings")
    .argument("<integration>")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: JsonFlag) => {
      const all = await withBifrost(async (_bf, deps) => (await services()).listMappings(deps, integration));
      all.sort((a, b) => (a.org < b.org ? -1 : 1));
      emit(opts, { mappings: all }, () =>
        say(table(["ORG", "ENTITY_ID", "ENTITY_NAME", "OVERRIDES"], all.map((m) => [m.org, m.entityId, m.entityName, Object.keys(m.config).join(", ")]), `No mappings for ${integration}.`)),
      );
    });

  cmd
    .command("remove")
    .description("remove an organization's mapping and its overrides")
    .argument("<integration>")
    .requiredOption("--org <slug>", "organization")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: JsonFlag & { org: string }) => {
      const res = await withBifrost(async (_bf, deps) => (await services()).removeMapping(deps, integration, opts.org, PLATFORM_ACTOR));
      emit(opts, { integration, org: opts.org, ...res }, () =>
        say(res.removed ? `Removed mapping ${integration} → ${opts.org}${res.deletedOverrides ? ` and ${res.deletedOverrides} override(s)` : ""}.` : `No mapping ${integration} → ${opts.org}; nothing to remove.`),
      );
    });
}
