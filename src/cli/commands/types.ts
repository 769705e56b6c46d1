import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say } from "../output.js";

/** Loaded by the action, so defining the command stays cheap (see main.ts). */
const generator = () => import("../../generator/config-types.js");

interface TypesOpts extends JsonFlag {
  out: string;
  check?: boolean;
}

const DEFAULT_OUT = "bifrost-types.d.ts";

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export function registerTypes(program: Command): void {
  program
    .command("types")
    .description("write declarations that type integrations.get(NAME).config per stored config schema (module augmentation of \"bifrost\")")
    .option("--out <file>", "declaration file", DEFAULT_OUT)
    .option("--check", "write nothing; exit 1 when the file differs from the stored schemas")
    .option("--json", "machine-readable output")
    .action(async (opts: TypesOpts) => {
      const { checkConfigTypes, renderConfigTypes } = await generator();
      const integrations = await withBifrost((bf) => bf.store.listIntegrations());
      const regenerate = opts.out === DEFAULT_OUT ? "bifrost types" : `bifrost types --out ${opts.out}`;
      const text = renderConfigTypes(integrations, regenerate);
      const keys = integrations.reduce((n, i) => n + i.configSchema.length, 0);
      const summary = { file: opts.out, integrations: integrations.length, keys };
      if (opts.check) {
        checkConfigTypes(opts.out, readOrNull(opts.out), text, regenerate);
        emit(opts, { ...summary, upToDate: true }, () => say(`${opts.out} is up to date (${integrations.length} integrations, ${keys} config keys).`));
        return;
      }
      const changed = readOrNull(opts.out) !== text;
      if (changed) writeFileSync(opts.out, text);
      emit(opts, { ...summary, changed }, () =>
        say(`${changed ? "Wrote" : "Unchanged:"} ${opts.out} (${integrations.length} integrations, ${keys} config keys). Keep it next to your workflows; run \`${regenerate}\` again after a schema changes.`),
      );
    });
}
