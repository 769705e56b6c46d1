import type { Command } from "commander";
import type { ProgressEvent, ProgressReporter } from "../../generator/progress.js";
import type { SdkRequest } from "../../generator/service.js";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, note, say } from "../output.js";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const service = () => import("../../generator/service.js");

interface SdkOpts extends JsonFlag {
  spec: string;
  module?: string;
  out?: string;
  auth?: string;
}

const AUTH_HELP = "spec (the spec's security schemes), oauth, bearer, basic, api-key:header:NAME, api-key:query:NAME, none";

const PHASES: ProgressEvent["phase"][] = ["download", "parse", "bundle", "convert", "validate", "emit", "done"];

/** A progress bar on a TTY (stderr, redrawn in place); plain lines per phase otherwise. Silent with --json. */
function progressRenderer(json: boolean, stream: NodeJS.WriteStream = process.stderr): { report: ProgressReporter; end(): void } {
  if (json) return { report: () => undefined, end: () => undefined };
  const tty = stream.isTTY === true;
  let lastPhase = "";
  let lastDraw = 0;
  const width = 24;
  const report: ProgressReporter = (e) => {
    if (!tty) {
      if (e.phase !== lastPhase && e.phase !== "done") stream.write(`${e.phase}${e.message ? `: ${e.message}` : ""}\n`);
      lastPhase = e.phase;
      return;
    }
    const now = Date.now();
    if (e.phase === lastPhase && now - lastDraw < 50 && e.phase !== "done") return;
    lastPhase = e.phase;
    lastDraw = now;
    const step = PHASES.indexOf(e.phase);
    let frac = e.total ? Math.min(1, (e.done ?? 0) / e.total) : e.phase === "done" ? 1 : 0;
    if (!e.total) frac = Math.max(frac, step / (PHASES.length - 1));
    const filled = Math.round(frac * width);
    const detail = e.phase === "download" && e.done !== undefined ? ` ${(e.done / 1048576).toFixed(1)} MB${e.total ? ` / ${(e.total / 1048576).toFixed(1)} MB` : ""}` : e.total ? ` ${e.done ?? 0}/${e.total}` : e.message ? ` ${e.message}` : "";
    stream.write(`\r\x1b[K[${"#".repeat(filled)}${".".repeat(width - filled)}] ${e.phase}${detail}`);
  };
  return { report, end: () => (tty && lastPhase ? void stream.write("\r\x1b[K") : undefined) };
}

function request(opts: SdkOpts, report: ProgressReporter): SdkRequest {
  return { spec: opts.spec, ...(opts.module === undefined ? {} : { module: opts.module }), ...(opts.auth === undefined ? {} : { auth: opts.auth }), ...(opts.out === undefined ? {} : { outDir: opts.out }), onProgress: report };
}

export function registerSdk(program: Command): void {
  const cmd = program.command("sdk").description("generate typed API clients from OpenAPI specs");

  cmd
    .command("generate")
    .description("generate DIR/NAME.ts from an OpenAPI 2.0/3.0/3.1 spec (file or https URL) and add the config keys it needs")
    .argument("<integration>", "integration name, e.g. HaloPSA")
    .requiredOption("--spec <url-or-file>", "OpenAPI spec: https URL or file (JSON or YAML)")
    .option("--module <name>", "module name (default: the integration name, lowercased)")
    .option("--out <dir>", "output directory", "modules")
    .option("--auth <choice>", `how calls authenticate: ${AUTH_HELP}`, "spec")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: SdkOpts) => {
      const p = progressRenderer(opts.json === true);
      const res = await withBifrost(async (_bf, deps) => (await service()).generateForIntegration(deps, integration, request(opts, p.report), true)).finally(p.end);
      const r = res.result;
      emit(
        opts,
        {
          file: res.file,
          module: r.moduleName,
          auth: r.auth,
          export: r.exportName,
          operations: r.operations.length,
          paginated: r.operations.filter((o) => o.paginated).length,
          schemas: r.schemaCount,
          renamed: r.renames,
          config_keys_added: res.configAdded,
          config_keys_existing: res.configKept,
          warnings: r.warnings,
          timings: r.timings,
        },
        () => {
          say(`Wrote ${res.file} (${r.operations.length} operations, ${r.schemaCount} schemas; import { ${r.exportName} } from "./${r.moduleName}.js").`);
          if (r.auth !== "spec") say(`Every operation authenticates with --auth ${r.auth} (the spec's security schemes are not used).`);
          if (res.configAdded.length > 0) say(`Added config keys to ${integration}: ${res.configAdded.map((k) => `${k.key} (${k.type})`).join(", ")}`);
          else say(`Config schema of ${integration} unchanged.`);
          for (const rn of r.renames) note(`renamed: ${rn.method} ${rn.path} → ${rn.name} (${rn.operationId ? `operationId "${rn.operationId}"` : "no operationId"}; "${rn.wanted}" ${rn.reason === "reserved" ? "is reserved" : "was taken"})`);
          for (const w of r.warnings) note(`warning: ${w}`);
        },
      );
    });

  cmd
    .command("check")
    .description("regenerate in memory and fail (exit 1) if the committed module differs")
    .argument("<integration>", "integration name")
    .requiredOption("--spec <url-or-file>", "OpenAPI spec: https URL or file (JSON or YAML)")
    .option("--module <name>", "module name (default: the integration name, lowercased)")
    .option("--out <dir>", "directory holding the module", "modules")
    .option("--auth <choice>", `the --auth choice to compare with (default: the one recorded in the module): ${AUTH_HELP}`)
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: SdkOpts) => {
      const p = progressRenderer(opts.json === true);
      const res = await withBifrost(async (_bf, deps) => (await service()).checkForIntegration(deps, integration, request(opts, p.report))).finally(p.end);
      emit(opts, { file: res.file, upToDate: true, auth: res.result.auth, operations: res.result.operations.length }, () => say(`${res.file} is up to date.`));
    });
}
