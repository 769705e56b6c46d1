import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { importEsm } from "../../core/esm-import.js";
import { ValidationError } from "../../core/errors.js";
import type { Bifrost, BootOptions } from "../../host/bootstrap.js";
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
      await runServer({ ...opts, port: defaultPort(opts.port), workflowsDir: resolveWorkflowsDir(opts.workflows) });
    });
}

/** --port, else $PORT, else 3000. */
export function defaultPort(flag: number | undefined): number {
  return flag ?? (process.env.PORT ? parsePortEnv(process.env.PORT) : 3000);
}

/** --workflows, else $BIFROST_WORKFLOWS_DIR, else ./workflows when it exists, else none. */
export function resolveWorkflowsDir(flag: string | undefined): string | null {
  const requested = flag ?? (process.env.BIFROST_WORKFLOWS_DIR || undefined);
  if (requested !== undefined) {
    const source = flag !== undefined ? "--workflows" : "BIFROST_WORKFLOWS_DIR";
    const dir = resolve(requested);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ValidationError(`${source} ${requested} is not a directory.`, { path: source });
    }
    return dir;
  }
  if (existsSync("workflows") && statSync("workflows").isDirectory()) return resolve("workflows");
  return null;
}

/** The URL a browser on this host reaches `host:port` at: wildcard addresses are shown as 127.0.0.1, IPv6 in brackets. */
function listenUrl(host: string, port: number): string {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** A port that is free on `host` right now (what `--port 0` will listen on). */
async function freePort(host: string): Promise<number> {
  // Fetched here, not imported at the top: every command loads this module, only `serve --port 0` needs node:net.
  const probe = process.getBuiltinModule("node:net").createServer();
  await new Promise<void>((ok, fail) => probe.once("error", fail).listen(0, host, ok));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((ok) => probe.close(() => ok()));
  return port;
}

export interface RunServerOptions extends JsonFlag {
  port: number;
  host: string;
  workflowsDir: string | null;
  /** Passed to openBifrost (dev mode: its own environment view, forcing SQLite and the development keyring). */
  boot?: BootOptions;
  /** `bifrost dev` only: the console's dev login (startServer refuses it off loopback). */
  devLogin?: boolean;
  /** Extra start-up lines after the standard ones (human output only). */
  extraLines?: string[];
  /** OAuth settings beyond the public URL (dev --demo: its authorization server is http on loopback). */
  oauth?: { allowHttpLoopback?: boolean };
  /**
   * Runs after the store is open and the public URL is known, before the server starts (dev --demo:
   * its authorization server and seed). Its lines and JSON fields join the start-up output; `close`
   * runs after the server closed.
   */
  prepare?: (ctx: { bifrost: Bifrost; publicUrl: string }) => Promise<Prepared>;
}

export interface Prepared {
  lines: string[];
  json: Record<string, unknown>;
  close(): Promise<void>;
}

/** Open the store, start the server and background work, print the start-up lines, run until SIGINT/SIGTERM. Shared by `serve` and `dev`. */
export async function runServer(opts: RunServerOptions): Promise<void> {
  const { workflowsDir } = opts;
  const shutdownMs = shutdownTimeoutFromEnv(process.env);
  // The server stack is loaded only by the commands that run it.
  const [{ default: pino }, { createLogger }, { openBifrost }, { installProcessGuards }, { startServer }] = await Promise.all([
    importEsm<typeof import("pino")>("pino"),
    import("../../logger.js"),
    import("../../host/bootstrap.js"),
    import("../../runtime/process-guards.js"),
    import("../../server/index.js"),
  ]);
  const bifrost = await openBifrost({ warn: cliWarn, ...(opts.boot ?? {}) });
  const logger = createLogger({ destination: pino.destination(2) });
  installProcessGuards((fault) => logger.error({ fault: fault.kind, executionId: fault.executionId }, `${fault.kind} (the server keeps running): ${fault.message}`));
  let server: { url: string; close(): Promise<void> };
  // OAuth callbacks go to BIFROST_PUBLIC_URL; without it, to the address this server actually listens on.
  let port = opts.port;
  let publicUrl = process.env.BIFROST_PUBLIC_URL?.replace(/\/+$/, "") || undefined;
  const oauth: { publicUrl?: string; allowHttpLoopback?: boolean } = { ...(opts.oauth ?? {}) };
  let prepared: Prepared | null = null;
  try {
    if (publicUrl === undefined) {
      if (port === 0) port = await freePort(opts.host);
      publicUrl = oauth.publicUrl = listenUrl(opts.host, port);
    }
    if (opts.prepare) prepared = await opts.prepare({ bifrost, publicUrl });
    server = await startServer({ bifrost, workflowsDir, logger, port, host: opts.host, ...(Object.keys(oauth).length ? { oauth } : {}), ...(opts.devLogin ? { devLogin: true } : {}) });
  } catch (err) {
    await prepared?.close();
    await bifrost.close();
    throw err;
  }
  // SIGHUP: re-read the keyring file (after `bifrost keyring rotate` / `retire`); a refused reload keeps the current keyring.
  const reload = () => {
    bifrost.reloadKeyring().then(
      ({ active, kids }) => logger.info({ active_kid: active, kids }, `keyring reloaded: active key "${active}"`),
      (err: unknown) => logger.error({ code: (err as { code?: string }).code }, `keyring reload refused, the current keyring stays: ${(err as Error).message}`),
    );
  };
  process.on("SIGHUP", reload);
  // The signal handlers are in place before the start-up lines announce the server: a supervisor (or a
  // test) that stops the process as soon as it reads the URL gets the graceful close.
  const stopped = new Promise<void>((done) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      note(`Received ${signal}, shutting down (at most ${shutdownMs} ms, BIFROST_SHUTDOWN_TIMEOUT_MS)…`);
      const close = async (): Promise<void> => {
        await server.close().catch((err: unknown) => note(`error while closing the server: ${(err as Error).message}`));
        process.off("SIGHUP", reload);
        await prepared?.close().catch(() => undefined);
        await bifrost.close().catch(() => undefined);
      };
      void shutdownWithin(shutdownMs, close).then((outcome) => {
        if (outcome === "closed") return done();
        note(`Shutdown did not finish within ${shutdownMs} ms (BIFROST_SHUTDOWN_TIMEOUT_MS): requests still in flight were cut off. Exiting with code 1.`);
        process.exit(1);
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  emit(opts, { url: server.url, public_url: publicUrl, store: bifrost.storeDescription, keyring: bifrost.keyringOrigin, workflows: workflowsDir, ...(opts.devLogin ? { dev_login: true } : {}), ...(prepared?.json ?? {}) }, () => {
    say(`Bifrost listening on ${server.url}`);
    say(`  public:    ${publicUrl} (OAuth callbacks; set BIFROST_PUBLIC_URL to change)`);
    say(`  store:     ${bifrost.storeDescription}`);
    say(`  keyring:   ${bifrost.keyringOrigin}`);
    say(`  workflows: ${workflowsDir ?? "(none)"}`);
    for (const line of [...(opts.extraLines ?? []), ...(prepared?.lines ?? [])]) say(line);
  });
  await stopped;
}

/** Default of BIFROST_SHUTDOWN_TIMEOUT_MS: below the usual 30 s a supervisor waits before SIGKILL. */
const DEFAULT_SHUTDOWN_MS = 25_000;

/** BIFROST_SHUTDOWN_TIMEOUT_MS (default 25 000): how long a graceful shutdown may take before the process exits with 1. */
export function shutdownTimeoutFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.BIFROST_SHUTDOWN_TIMEOUT_MS;
  if (raw === undefined || raw === "") return DEFAULT_SHUTDOWN_MS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1) {
    throw new ValidationError(`BIFROST_SHUTDOWN_TIMEOUT_MS=${JSON.stringify(raw)} must be a whole number of milliseconds ≥ 1 (default ${DEFAULT_SHUTDOWN_MS}).`, { path: "BIFROST_SHUTDOWN_TIMEOUT_MS" });
  }
  return n;
}

/**
 * Run the graceful `close` (stop accepting, let in-flight requests finish, stop background work,
 * close the database), but give up waiting after `timeoutMs`: "timed_out" tells the caller to exit
 * hard. `close` keeps running in the background; the process exit ends it.
 */
export async function shutdownWithin(timeoutMs: number, close: () => Promise<void>): Promise<"closed" | "timed_out"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timed_out">((ok) => {
    timer = setTimeout(() => ok("timed_out"), timeoutMs);
  });
  try {
    return await Promise.race([close().then(() => "closed" as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function parsePortEnv(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new ValidationError(`PORT=${JSON.stringify(value)} is not a port number (0-65535).`, { path: "PORT" });
  return n;
}
