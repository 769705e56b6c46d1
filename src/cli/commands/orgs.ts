import type { Command } from "commander";
import { NotFoundError } from "../../core/errors.js";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say, table } from "../output.js";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const services = () => import("../../services/organizations.js");

export function registerOrgs(program: Command): void {
  const orgs = program.command("orgs").description("manage organizations (tenants)");

  orgs
    .command("create")
    .description("create an organization")
    .argument("<slug>", "lowercase slug, e.g. acme")
    .option("--name <name>", "display name (default: the slug)")
    .option("--json", "machine-readable output")
    .action(async (slug: string, opts: JsonFlag & { name?: string }) => {
      const org = await withBifrost(async (_bf, deps) => (await services()).createOrg(deps, { slug, ...(opts.name === undefined ? {} : { name: opts.name }) }));
      emit(opts, { organization: org }, () => say(`Created organization ${org.slug} (${org.name}).`));
    });

  orgs
    .command("list")
    .description("list organizations")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag) => {
      const rows = await withBifrost(async (_bf, deps) => {
        const all = await deps.store.listOrgs();
        const mappings = await deps.store.listMappings({});
        return all.map((o) => ({ ...o, mappings: mappings.filter((m) => m.orgId === o.id).length }));
      });
      emit(opts, { organizations: rows }, () =>
        say(table(["SLUG", "NAME", "MAPPINGS", "CREATED"], rows.map((o) => [o.slug, o.name, o.mappings, o.createdAt]), "No organizations yet. Create one with `bifrost orgs create SLUG`.")),
      );
    });

  orgs
    .command("show")
    .description("show an organization and its mappings")
    .argument("<slug>")
    .option("--json", "machine-readable output")
    .action(async (slug: string, opts: JsonFlag) => {
      const data = await withBifrost(async (_bf, deps) => {
        const org = await deps.store.getOrgBySlug(slug);
        if (!org) throw new NotFoundError(`Organization "${slug}" does not exist. List them with \`bifrost orgs list\`.`, { org: slug });
        const integrations = new Map((await deps.store.listIntegrations()).map((i) => [i.id, i.name]));
        const mappings = (await deps.store.listMappings({ orgId: org.id }))
          .map((m) => ({ integration: integrations.get(m.integrationId) ?? m.integrationId, entityId: m.entityId, entityName: m.entityName }))
          .sort((a, b) => (a.integration < b.integration ? -1 : 1));
        return { organization: org, mappings };
      });
      emit(opts, data, () => {
        const o = data.organization;
        say(`${o.slug}  ${o.name}\n  id ${o.id}, created ${o.createdAt}, updated ${o.updatedAt}\n`);
        say(table(["INTEGRATION", "ENTITY_ID", "ENTITY_NAME"], data.mappings.map((m) => [m.integration, m.entityId, m.entityName]), "No mappings."));
      });
    });

  orgs
    .command("update")
    .description("rename an organization or change its slug")
    .argument("<slug>")
    .option("--name <name>", "new display name")
    .option("--slug <slug>", "new slug")
    .option("--json", "machine-readable output")
    .action(async (slug: string, opts: JsonFlag & { name?: string; slug?: string }) => {
      const org = await withBifrost(async (_bf, deps) =>
        (await services()).updateOrg(deps, slug, { ...(opts.name === undefined ? {} : { name: opts.name }), ...(opts.slug === undefined ? {} : { slug: opts.slug }) }),
      );
      emit(opts, { organization: org }, () => say(`Updated organization ${org.slug} (${org.name}).`));
    });

  orgs
    .command("delete")
    .description("delete an organization (refused while it has mappings)")
    .argument("<slug>")
    .option("--json", "machine-readable output")
    .action(async (slug: string, opts: JsonFlag) => {
      await withBifrost(async (_bf, deps) => (await services()).deleteOrg(deps, slug));
      emit(opts, { deleted: slug }, () => say(`Deleted organization ${slug}.`));
    });
}
