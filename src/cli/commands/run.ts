import type { Command } from "commander";
import { NotFoundError, ValidationError, WorkflowError } from "../../core/errors.js";
import type { ExecutionResult } from "../../runtime/execute.js";
import { printOutput, writeRaw } from "../../runtime/output.js";
import type { OutputSink } from "../../runtime/types.js";
import type { ProcessFault } from "../../runtime/process-guards.js";
import type { RemoteResolver } from "../../host/remote-resolver.js";
import type { WorkflowDefinition } from "../../runtime/workflow.js";
import { withRuntime } from "../context.js";
import { type JsonFlag, printJson, write } from "../output.js";

/**
 * A workflow's console output (console.* and process.stdout/stderr.write inside the execution) goes to
 * stderr, redacted with the execution's secrets and prefixed with its execution id: stdout carries only
 * the result.
 */
const toStderr: OutputSink = (o) => printOutput({ ...o, stream: "stderr" });

/** The workflow to run from `file`: the only one, or the one named by --workflow. */
async function pickWorkflow(file: string, name: string | undefined): Promise<WorkflowDefinition> {
  const { loadWorkflowFile } = await import("../../runtime/loader.js");
  const defs = await loadWorkflowFile(file);
  const names = defs.map((d) => d.name);
  let def = defs[0];
  if (name !== undefined) {
    def = defs.find((d) => d.name === name);
    if (!def) throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `${file} has no workflow "${name}"; it exports: ${names.join(", ")}.`, { file, workflows: names });
  } else if (defs.length > 1) {
    throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `${file} exports ${defs.length} workflows (${names.join(", ")}); pick one with --workflow NAME.`, { file, workflows: names });
  }
  if (!def) throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `${file} exports no workflow.`, { file });
  return def;
}

/**
 * Remote mode (BIFROST_URL set): integrations come from the server over HTTP with BIFROST_API_KEY; no
 * local store or keyring is opened. The server decides what the key may read (an org-scoped key sees
 * only its own organization), so the caller is not limited locally.
 */
async function runRemote(remote: RemoteResolver, file: string, opts: { org: string; workflow?: string }, input: unknown): Promise<ExecutionResult> {
  process.stderr.write(`remote: ${remote.url}\n`);
  const org = await remote.findOrg(opts.org);
  if (!org) {
    throw new NotFoundError(
      `Organization "${opts.org}" does not exist on ${remote.url}, or BIFROST_API_KEY is scoped to another organization (a workflow key can only run as its own).`,
      { org: opts.org },
    );
  }
  const def = await pickWorkflow(file, opts.workflow);
  const { executeWorkflow } = await import("../../runtime/execute.js");
  return executeWorkflow(def, input, { org, caller: { kind: "api_key", platform: true }, resolver: remote, output: toStderr });
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run a workflow file as an organization and print its result as JSON (remote mode against a server when BIFROST_URL and BIFROST_API_KEY are set)")
    .argument("<file>", "a .ts or .js file that exports workflow(...) (may live outside this installation)")
    .requiredOption("--org <slug>", "run as this organization")
    .option("--input <json>", "input passed to the workflow (JSON)")
    .option("--workflow <name>", "which workflow, when the file exports several")
    .option("--json", "print { execution_id, workflow, org, result }")
    .action(async (file: string, opts: JsonFlag & { org: string; input?: string; workflow?: string }) => {
      let input: unknown = {};
      if (opts.input !== undefined) {
        try {
          input = JSON.parse(opts.input);
        } catch (err) {
          throw new ValidationError(`--input is not valid JSON: ${(err as Error).message}`, { path: "--input" });
        }
      }
      // Only what this command uses is loaded (remote mode never opens the local store).
      const [{ installProcessGuards }, { RemoteResolver }] = await Promise.all([import("../../runtime/process-guards.js"), import("../../host/remote-resolver.js")]);
      // A rejection the workflow left unhandled fails the run, reported without its secrets.
      let fault: ProcessFault | null = null;
      installProcessGuards((f) => {
        fault ??= f;
        writeRaw("stderr", `error [BIFROST_WORKFLOW_FAILED]: ${f.kind} in the workflow${f.executionId ? ` (execution ${f.executionId})` : ""}: ${f.message}\n`);
      });
      const remote = RemoteResolver.fromEnv();
      const res = remote
        ? await runRemote(remote, file, opts, input)
        : await withRuntime(async (bf) => {
            const [{ requireOrg }, { executeWorkflow }] = await Promise.all([import("../../kernel/lookup.js"), import("../../runtime/execute.js")]);
            const org = await requireOrg(bf.store, opts.org);
            const def = await pickWorkflow(file, opts.workflow);
            return executeWorkflow(def, input, { org: { id: org.id, slug: org.slug, name: org.name }, caller: { kind: "cli", platform: true }, resolver: bf.resolver, output: toStderr });
          });
      if (fault !== null) {
        const f: ProcessFault = fault;
        throw new WorkflowError("BIFROST_WORKFLOW_FAILED", `The workflow left an error unhandled (${f.kind}); its result was discarded.`, { executionId: res.executionId });
      }
      if (opts.json) printJson({ execution_id: res.executionId, workflow: res.workflow, org: res.org, result: res.result });
      else write(process.stdout, JSON.stringify(res.result, null, 2));
    });
}
