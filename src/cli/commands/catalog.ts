import type { Command } from "commander";
import { emit, type JsonFlag, say, table } from "../output.js";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const catalog = () => import("../../catalog/index.js");

export function registerCatalog(program: Command): void {
  const cmd = program.command("catalog").description("the provider catalog: OAuth settings, config keys and test requests of well-known APIs (`provider: ID` in bifrost.yaml)");

  cmd
    .command("list")
    .description("list catalog providers")
    .option("--q <text>", "only providers whose id, name, category or auth kind contain every word")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag & { q?: string }) => {
      const found = (await catalog()).searchProviders(opts.q ?? "");
      emit(opts, { providers: found }, () =>
        say(
          table(
            ["ID", "NAME", "CATEGORY", "AUTH"],
            found.map((p) => [p.id, p.name, p.category, p.auth.join(", ")]),
            `No provider matches ${JSON.stringify(opts.q ?? "")}; \`bifrost catalog list\` shows all.`,
          ),
        ),
      );
    });

  cmd
    .command("show")
    .description("show one catalog provider: URLs, placeholders, scopes, quirks, entity capture, config keys, test request")
    .argument("<id>", "e.g. microsoft-graph (see `bifrost catalog list`)")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: JsonFlag) => {
      const entry = (await catalog()).getProvider(id);
      const { providerSection } = await import("../../catalog/doc.js");
      emit(opts, { provider: entry }, () => say(providerSection(entry)));
    });
}
