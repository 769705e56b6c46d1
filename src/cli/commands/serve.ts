import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import pino from "pino";
import { ValidationError } from "../../core/errors.js";
import { createLogger } from "../../logger.js";
import { openBifrost } from "../../services/bootstrap.js";
import { installProcessGuards } from "../../runtime/process-guards.js";
import { startServer } from "../../server/index.js";
import { cliWarn, parsePort } from "../context.js";
import { emit, type JsonFlag, note, say } from "../output.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the HTTP API (and workflows from --workflows)")
    .option("--port <port>", "port (default: $PORT or 3000)", parsePort)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--workflows <dir>", "folder of workflow files (default $BIFROST_WORKFLOWS_DIR, else ./workflows when it exists)")
    .option("--json", "machine-readable start-up line (server logs go to stderr)")
    .action(async (opts: JsonFlag & { port?: number; host: string; workflows?: string }) => {
      const port = opts.port ?? (process.env.PORT ? parsePortEnv(process.env.PORT) : 3000);
      let workflowsDir: string | null = null;
      const requested = opts.workflows ?? (process.env.BIFROST_WORKFLOWS_DIR || undefined);
      if (requested !== undefined) {
        const source = opts.workflows !== undefined ? "--workflows" : "BIFROST_WORKFLOWS_DIR";
        workflowsDir = resolve(requested);
        if (!existsSync(workflowsDir) || !statSync(workflowsDir).isDirectory()) {
          throw new ValidationError(`${source} ${requested} is not a directory.`, { path: source });
        }
      } else if (existsSync("workflows") && statSync("workflows").isDirectory()) {
        workflowsDir = resolve("workflows");
      }
      const bifrost = await openBifrost({ warn: cliWarn });
      const logger = createLogger({ destination: pino.destination(2) });
      installProcessGuards((fault) => logger.error({ fault: fault.kind, executionId: fault.executionId }, `${fault.kind} (the server keeps running): ${fault.message}`));
      let server: { url: string; close(): Promise<void> };
      try {
        server = await startServer({ bifrost, workflowsDir, logger, port, host: opts.host });
      } catch (err) {
        await bifrost.close();
        throw err;
      }
      emit(opts, { url: server.url, store: bifrost.storeDescription, keyring: bifrost.keyringOrigin, workflows: workflowsDir }, () => {
        say(`Bifrost listening on ${server.url}`);
        say(`  store:     ${bifrost.storeDescription}`);
        say(`  keyring:   ${bifrost.keyringOrigin}`);
        say(`  workflows: ${workflowsDir ?? "(none)"}`);
      });
      await new Promise<void>((done) => {
        let closing = false;
        const stop = (signal: string) => {
          if (closing) return;
          closing = true;
          note(`Received ${signal}, shutting down…`);
          server
            .close()
            .catch((err: unknown) => note(`error while closing the server: ${(err as Error).message}`))
            .then(() => bifrost.close())
            .catch(() => undefined)
            .finally(done);
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      });
    });
}

function parsePortEnv(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new ValidationError(`PORT=${JSON.stringify(value)} is not a port number (0-65535).`, { path: "PORT" });
  return n;
}
