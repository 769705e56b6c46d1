import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { ValidationError } from "../../core/errors.js";
import type { ApplyChange, ApplyReport } from "../../services/apply.js";
import type { ExportFormat } from "../../services/export.js";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say, write } from "../output.js";

/** Loaded by the actions that use them, so defining the commands stays cheap (see main.ts). */
const applyService = () => import("../../services/apply.js");
const exportService = () => import("../../services/export.js");
const moveCommands = () => import("./move.js");

function describe(c: ApplyChange): string {
  const parts: string[] = [];
  if (c.fields.length) parts.push(c.fields.join(", "));
  const what = c.kind === "integration" ? "defaults" : "config";
  if (c.kind === "oauth_provider") return `  ${c.action.padEnd(9)} ${"oauth".padEnd(12)} ${c.name}${c.fields.length ? `  (${c.fields.join(", ")})` : ""}`;
  if (c.keysSet.length) parts.push(`${what} set: ${c.keysSet.join(", ")}`);
  if (c.keysUnset.length) parts.push(`${what} unset: ${c.keysUnset.join(", ")}`);
  if (c.deletedValues) parts.push(`${c.deletedValues} stored value(s) deleted`);
  const name = c.kind === "mapping" ? c.name.replace("/", " → ") : c.name;
  return `  ${c.action.padEnd(9)} ${c.kind.padEnd(12)} ${name}${parts.length ? `  (${parts.join("; ")})` : ""}`;
}

function printReport(r: ApplyReport): void {
  const prefix = r.dryRun ? "Dry run (nothing was written): " : "";
  if (!r.changed) {
    say(`${prefix}${r.file}: no changes (${r.summary.unchanged} object(s) unchanged).`);
    return;
  }
  for (const c of r.changes) if (c.action !== "unchanged") say(describe(c));
  const verb = r.dryRun ? "would be " : "";
  say(`${prefix}${r.file}: ${r.summary.created} ${verb}created, ${r.summary.updated} ${verb}updated, ${r.summary.unchanged} unchanged.`);
}

export function registerApply(program: Command): void {
  program
    .command("apply")
    .description("create or update organizations, integrations and mappings from a bifrost.yaml / JSON file (${ENV_VAR} substituted)")
    .argument("<file>")
    .option("--dry-run", "show what would change without writing")
    .option("--force", "allow config schema changes that delete stored values")
    .option("--json", "machine-readable output")
    .action(async (file: string, opts: JsonFlag & { dryRun?: boolean; force?: boolean }) => {
      const report = await withBifrost(async (_bf, deps) => (await applyService()).applyFile(deps, file, { dryRun: opts.dryRun === true, force: opts.force === true }));
      emit(opts, report, () => printReport(report));
    });

  program
    .command("export")
    .description("write organizations, integrations and mappings in the apply format (secrets as fingerprints, never plaintext); --with-secrets: the whole instance, encrypted with a passphrase")
    .option("--out <file>", "write to a file (default stdout); .json selects JSON")
    .addOption(new Option("--format <format>", "output format").choices(["yaml", "json"]))
    .option("--with-secrets", "include every secret and OAuth token, encrypted with a passphrase (needs --out and --passphrase-env); read back with `bifrost import`")
    .option("--passphrase-env <VAR>", "with --with-secrets: name of the environment variable holding the passphrase")
    .option("--json", "machine-readable output (JSON document on stdout, or a summary with --out)")
    .action(async (opts: JsonFlag & { out?: string; format?: ExportFormat; withSecrets?: boolean; passphraseEnv?: string }) => {
      if (opts.withSecrets) {
        await (await moveCommands()).exportWithSecretsCommand(opts);
        return;
      }
      if (opts.passphraseEnv !== undefined) {
        throw new ValidationError("--passphrase-env applies only with --with-secrets; the plain export holds no secrets and is not encrypted.", { option: "--passphrase-env" });
      }
      const { exportDocument, formatExport } = await exportService();
      const doc = await withBifrost((_bf, deps) => exportDocument(deps));
      const format: ExportFormat = opts.format ?? (opts.out?.toLowerCase().endsWith(".json") || (opts.json && !opts.out) ? "json" : "yaml");
      const text = formatExport(doc, format);
      if (!opts.out) {
        write(process.stdout, text);
        return;
      }
      writeFileSync(opts.out, text, "utf8");
      const summary = { file: opts.out, format, organizations: doc.organizations.length, integrations: doc.integrations.length };
      emit(opts, summary, () => say(`Exported ${summary.organizations} organization(s) and ${summary.integrations} integration(s) to ${opts.out} (${format}).`));
    });
}
