/** Server entry point (`bifrost/server`): the HTTP API. */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { ValidationError } from "../core/errors.js";
import { createLogger } from "../logger.js";
import { startBackgroundWork } from "../oauth/background.js";
import type { RefresherOptions } from "../oauth/refresher.js";
import { createApp, type ServerOptions } from "./app.js";
import { PortInUseError } from "./errors.js";

export { createApp, registeredRoutes, type ServerOptions } from "./app.js";
export { buildOpenApi } from "./openapi.js";

export interface BackgroundWork {
  stop(): Promise<void>;
}

/** 127.0.0.0/8, ::1 and localhost: the only interfaces a server with dev login may listen on. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** BIFROST_REFRESH_INTERVAL_MS (default 15 000) and BIFROST_REFRESH_AHEAD_SECONDS (default 300) tune the proactive refresher. */
export function refresherOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RefresherOptions {
  const num = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new ValidationError(`${name}=${JSON.stringify(raw)} must be a number ≥ ${min}.`, { path: name });
    return n;
  };
  const intervalMs = num("BIFROST_REFRESH_INTERVAL_MS", 100);
  const aheadSeconds = num("BIFROST_REFRESH_AHEAD_SECONDS", 1);
  return { ...(intervalMs !== undefined ? { intervalMs } : {}), ...(aheadSeconds !== undefined ? { aheadSeconds } : {}) };
}

/**
 * Build the app, listen, and start the background work (the OAuth refresher renewing tokens ahead of
 * expiry, and webhook delivery of events when BIFROST_WEBHOOK_URL is set); closing the server stops it. `createApp` alone starts nothing in the background.
 * `host` defaults to 127.0.0.1; port 0 picks a free port (see `url`). `background: false` skips it.
 */
export async function startServer(
  opts: ServerOptions & { port: number; host?: string; background?: boolean },
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const { port, host = "127.0.0.1", background = true, ...rest } = opts;
  if (rest.devLogin && !isLoopbackHost(host)) {
    throw new ValidationError(`Dev login is only allowed on a loopback interface (127.0.0.1, ::1, localhost); refusing to listen on ${host} with it.`, { path: "host" });
  }
  const logger = rest.logger ?? createLogger();
  const app = await createApp({ ...rest, logger });
  if (background) {
    const bf = rest.bifrost;
    const work: BackgroundWork = startBackgroundWork(
      { store: bf.store, box: bf.box, clock: bf.clock, ...(rest.oauth ? { oauth: rest.oauth } : {}) },
      { refresher: refresherOptionsFromEnv(), onError: (message) => logger.warn({ component: "oauth-background" }, `OAuth background work: ${message}`) },
    );
    app.addHook("onClose", async () => {
      await work.stop();
    });
  }
  // Start the cache-invalidation listener now (PostgreSQL); caching stays off until it listens.
  void rest.bifrost.store.changes?.ready();
  try {
    await app.listen({ port, host });
  } catch (err) {
    await app.close().catch(() => undefined);
    if ((err as { code?: unknown }).code === "EADDRINUSE") throw new PortInUseError(port, host);
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return { url: `http://${shown}:${addr.port}`, app, close: () => app.close() };
}
