import type { Command } from "commander";
import { NotFoundError, ValidationError, WorkflowError } from "../../core/errors.js";
import type { ExecutionResult } from "../../runtime/execute.js";
import { printOutput, writeRaw } from "../../runtime/output.js";
import type { OutputSink } from "../../runtime/types.js";
import type { ProcessFault } from "../../runtime/process-guards.js";
import type { RemoteResolver } from "../../host/remote-resolver.js";
import type { WorkflowRunner } from "../../host/workflow-pool.js";
import { withRuntime } from "../context.js";
import { type JsonFlag, printJson, write } from "../output.js";

/**
 * A workflow's console output (console.* and process.stdout/stderr.write inside the execution) goes to
 * stderr, redacted with the execution's secrets and prefixed with its execution id: stdout carries only
 * the result.
 */
const toStderr: OutputSink = (o) => printOutput({ ...o, stream: "stderr" });

/**
 * Remote mode (BIFROST_URL set): integrations come from the server over HTTP with BIFROST_API_KEY; no
 * local store or keyring is opened. The server decides what the key may read (an org-scoped key sees
 * only its own organization), so the caller is not limited locally.
 */
async function runRemote(runner: WorkflowRunner, remote: RemoteResolver, file: string, opts: { org: string; workflow?: string }, input: unknown): Promise<ExecutionResult> {
  process.stderr.write(`remote: ${remote.url}\n`);
  const org = await remote.findOrg(opts.org);
  if (!org) {
    throw new NotFoundError(
      `Organization "${opts.org}" does not exist on ${remote.url}, or BIFROST_API_KEY is scoped to another organization (a workflow key can only run as its own).`,
      { org: opts.org },
    );
  }
  return runner.runFile(file, opts.workflow, input, { org, caller: { kind: "api_key", platform: true }, resolver: remote, output: toStderr });
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
      const [{ installProcessGuards }, { RemoteResolver }, { WorkflowRunner }, { workflowLimits }] = await Promise.all([
        import("../../runtime/process-guards.js"),
        import("../../host/remote-resolver.js"),
        import("../../host/workflow-pool.js"),
        import("../../host/workflow-limits.js"),
      ]);
      // A rejection the workflow left unhandled fails the run, reported without its secrets.
      let fault: ProcessFault | null = null;
      const onFault = (f: ProcessFault): void => {
        fault ??= f;
        writeRaw("stderr", `error [BIFROST_WORKFLOW_FAILED]: ${f.kind} in the workflow${f.executionId ? ` (execution ${f.executionId})` : ""}: ${f.message}\n`);
      };
      installProcessGuards(onFault);
      // The execution runs in a worker thread under the workflow limits, like on the server.
      const runner = new WorkflowRunner({ limits: workflowLimits(process.env, { concurrency: 1, queue: 0 }), spare: false, lowerPriority: false, onFault });
      let res: ExecutionResult;
      try {
        const remote = RemoteResolver.fromEnv();
        res = remote
          ? await runRemote(runner, remote, file, opts, input)
          : await withRuntime(async (bf) => {
              const { requireOrg } = await import("../../kernel/lookup.js");
              const org = await requireOrg(bf.store, opts.org);
              return runner.runFile(file, opts.workflow, input, { org: { id: org.id, slug: org.slug, name: org.name }, caller: { kind: "cli", platform: true }, resolver: bf.resolver, output: toStderr });
            });
      } finally {
        await runner.close();
      }
      if (fault !== null) {
        const f: ProcessFault = fault;
        throw new WorkflowError("BIFROST_WORKFLOW_FAILED", `The workflow left an error unhandled (${f.kind}); its result was discarded.`, { executionId: res.executionId });
      }
      if (opts.json) printJson({ execution_id: res.executionId, workflow: res.workflow, org: res.org, result: res.result });
      else write(process.stdout, JSON.stringify(res.result, null, 2));
    });
}
