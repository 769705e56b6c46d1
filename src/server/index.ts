/** Server entry point (`bifrost/server`): the HTTP API. */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { createLogger } from "../logger.js";
import { createApp, type ServerOptions } from "./app.js";

export { createApp, registeredRoutes, type ServerOptions } from "./app.js";
export { buildOpenApi } from "./openapi.js";

/** Build the app and listen. `host` defaults to 127.0.0.1; port 0 picks a free port (see `url`). */
export async function startServer(opts: ServerOptions & { port: number; host?: string }): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const { port, host = "127.0.0.1", ...rest } = opts;
  const app = await createApp({ ...rest, logger: rest.logger ?? createLogger() });
  await app.listen({ port, host });
  const addr = app.server.address() as AddressInfo;
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return { url: `http://${shown}:${addr.port}`, app, close: () => app.close() };
}
