import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { WorkflowError } from "../core/errors.js";
import type { FastifyBaseLogger } from "fastify";
import { loadWorkflowFile } from "../runtime/loader.js";
import type { OutputMethod, OutputSink } from "../runtime/types.js";
import type { WorkflowDefinition } from "../runtime/workflow.js";

const WORKFLOW_FILE = /\.(ts|mts|js|mjs)$/;
const DECLARATION = /\.d\.(ts|mts)$/;

/** Workflow files under `dir`, recursively, in a stable order; node_modules and declaration files skipped. */
async function findWorkflowFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") files.push(...(await findWorkflowFiles(path)));
    } else if (e.isFile() && WORKFLOW_FILE.test(e.name) && !DECLARATION.test(e.name)) {
      files.push(path);
    }
  }
  return files;
}

export type WorkflowRegistry = ReadonlyMap<string, WorkflowDefinition>;

/** Load every workflow of `dir` plus `extra`; two workflows with one name is a startup error naming both sources. */
export async function loadWorkflows(dir: string | null | undefined, extra: readonly WorkflowDefinition[] = []): Promise<WorkflowRegistry> {
  const found = new Map<string, { def: WorkflowDefinition; source: string }>();
  const add = (def: WorkflowDefinition, source: string): void => {
    const prior = found.get(def.name);
    if (prior && prior.def !== def) {
      throw new WorkflowError("BIFROST_WORKFLOW_LOAD", `Two workflows are named "${def.name}": ${prior.source} and ${source}. Workflow names must be unique; rename one.`, {
        workflow: def.name,
        files: [prior.source, source],
      });
    }
    found.set(def.name, { def, source });
  };
  if (dir) {
    for (const file of await findWorkflowFiles(resolve(dir))) {
      for (const def of await loadWorkflowFile(file)) add(def, file);
    }
  }
  for (const def of extra) add(def, "(ServerOptions.workflows)");
  return new Map([...found].map(([name, { def }]) => [name, def]));
}

type LogLevel = "debug" | "info" | "warn" | "error";
const METHOD_LEVEL: Record<Exclude<OutputMethod, "write">, LogLevel> = { log: "info", info: "info", debug: "debug", trace: "debug", warn: "warn", error: "error" };
const WRITE_LEVEL: Record<"stdout" | "stderr", LogLevel> = { stdout: "info", stderr: "warn" };

/**
 * A workflow's console output on the server: one log line per console call (already redacted with the
 * execution's secrets), with its execution id, workflow and stream, at the level of the console method
 * (log/info → info, debug/trace → debug, warn → warn, error → error; stdout writes → info, stderr → warn).
 */
export function logOutput(log: FastifyBaseLogger, workflow: string): OutputSink {
  return (o) => {
    const level = o.method === "write" ? WRITE_LEVEL[o.stream] : METHOD_LEVEL[o.method];
    log[level]({ executionId: o.executionId, workflow, stream: o.stream, source: "workflow-output" }, o.text);
  };
}
