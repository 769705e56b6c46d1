import { randomUUID } from "node:crypto";
import { packageVersion } from "../core/package-info.js";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import { createLogger, type Logger } from "../logger.js";
import { mcpRoutes } from "./mcp/http.js";
import type { OAuthDeps } from "../oauth/service.js";
import type { WorkflowDefinition } from "../runtime/workflow.js";
import type { Bifrost } from "../host/bootstrap.js";
import { checkReadiness } from "../host/readiness.js";
import { BadRequestError, BODY_LIMIT, envelopeOf, installErrorHandling, installJsonParser } from "./errors.js";
import { openApiRoute } from "./openapi.js";
import { consoleRoutes, registerConsolePlugins } from "./console/routes.js";
import { Api } from "./route.js";
import { auditRoutes } from "./routes/audit.js";
import { catalogRoutes } from "./routes/catalog.js";
import { consoleSupportRoutes } from "./routes/console-support.js";
import { connectionRoutes } from "./routes/connections.js";
import { linkRoutes } from "./routes/links.js";
import { integrationRoutes } from "./routes/integrations.js";
import { keyRoutes } from "./routes/keys.js";
import { mappingRoutes } from "./routes/mappings.js";
import { oauthRoutes } from "./routes/oauth.js";
import { organizationRoutes } from "./routes/organizations.js";
import { sdkRoutes } from "./routes/sdk.js";
import { workflowApiRoutes } from "./routes/workflow-api.js";
import { workflowRoutes } from "./routes/workflows.js";
import { loadWorkflows } from "./workflows.js";
import { WorkflowRunner } from "../host/workflow-pool.js";
import { type WorkflowLimits, workflowLimits } from "../host/workflow-limits.js";
import { workflowModule, workflowSource } from "../runtime/loader.js";

export interface ServerOptions {
  bifrost: Bifrost;
  /** Directory of workflow .ts/.mts/.js/.mjs files to register (recursive); null or undefined = none. A missing directory means zero workflows. */
  workflowsDir?: string | null;
  /** Defaults to a silent logger for createApp and the standard logger for startServer. */
  logger?: Logger;
  /**
   * Extra, already-loaded workflow definitions (tests, embedding). Built in code, they cannot move to a
   * worker: they run in the server's thread under the concurrency and time limit only.
   */
  workflows?: WorkflowDefinition[];
  /** Workflow limits (defaults: BIFROST_WORKFLOW_TIMEOUT_MS, BIFROST_WORKFLOW_MEMORY_MB, BIFROST_WORKFLOW_CONCURRENCY). */
  workflowLimits?: Partial<WorkflowLimits>;
  /** "in-process" runs file workflows in the server's thread too (benchmark comparison only); default "worker". */
  workflowIsolation?: "worker" | "in-process";
  /** OAuth settings (public URL for callbacks, loopback switch, timeouts); defaults from BIFROST_PUBLIC_URL / BIFROST_ALLOW_HTTP_LOOPBACK. */
  oauth?: OAuthDeps["oauth"];
  /** `bifrost dev` only: enable the console's "Dev login" (a platform_admin session without a key). startServer refuses it unless bound to loopback. */
  devLogin?: boolean;
  /** Directory of the built console (default: dist/console when built); null = not built (`/` answers 503). */
  consoleDir?: string | null;
}

const routeLists = new WeakMap<FastifyInstance, Array<{ method: string; url: string }>>();

/** Every route Fastify registered on `app` (including HEAD twins) except those hidden from the OpenAPI document (`schema.hide`: the console's static files), for checking the document. */
export function registeredRoutes(app: FastifyInstance): ReadonlyArray<{ method: string; url: string }> {
  return routeLists.get(app) ?? [];
}


/** Build the HTTP API, ready for `inject()` or `listen()`. */
export async function createApp(opts: ServerOptions): Promise<FastifyInstance> {
  const workflows = await loadWorkflows(opts.workflowsDir, opts.workflows ?? []);
  const logger = opts.logger ?? createLogger({ level: "silent" });
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Unique across restarts and processes: the audit trail and the log (reqId) name requests by it.
    genReqId: () => randomUUID(),
    // Errors Fastify raises before routing (a malformed URL, for example) use the same envelope.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      void reply.code(400).send(envelopeOf(new BadRequestError(error.code === "FST_ERR_BAD_URL" ? "The request URL is malformed (bad percent-encoding)." : "Bad request.")));
    },
  });
  const routes: Array<{ method: string; url: string }> = [];
  routeLists.set(app, routes);
  app.addHook("onRoute", (r) => {
    if ((r.schema as { hide?: boolean } | undefined)?.hide === true) return;
    for (const m of [r.method].flat()) routes.push({ method: m, url: r.url ?? r.path });
  });
  installJsonParser(app);
  installErrorHandling(app);
  await registerConsolePlugins(app);

  const api = new Api(app, opts.bifrost, opts.oauth);
  const health = async () => ({ status: "ok" });
  api.publicRoute({ method: "GET", url: "/healthz", summary: "Liveness check: the process answers (never looks at the database).", tag: "meta", handler: health });
  api.publicRoute({
    method: "GET",
    url: "/readyz",
    summary: "Readiness check: the database answers, its migrations are current and the keyring matches its canaries; 503 with the reason otherwise (no secrets, no connection details).",
    tag: "meta",
    handler: async (request, reply) => {
      const r = await checkReadiness(opts.bifrost);
      void reply.header("cache-control", "no-store");
      if (r.ready) return { status: "ready", checks: r.checks };
      request.log.warn({ readiness: r.checks }, `not ready: ${r.detail ?? r.reason ?? "unknown"}`);
      void reply.code(503);
      return { status: "not_ready", reason: r.reason, checks: r.checks };
    },
  });
  organizationRoutes(api);
  integrationRoutes(api);
  mappingRoutes(api);
  oauthRoutes(api);
  linkRoutes(api);
  keyRoutes(api);
  auditRoutes(api);
  catalogRoutes(api);
  const sourceFiles = [...new Set([...workflows.values()].map(workflowSource).filter((f): f is string => f !== undefined))];
  const preload = opts.workflowIsolation === "in-process" ? [] : await Promise.all(sourceFiles.map(async (file) => ({ file, module: await workflowModule(file) })));
  const runner = new WorkflowRunner({
    limits: workflowLimits(process.env, opts.workflowLimits),
    preload,
    ...(opts.workflowIsolation ? { isolation: opts.workflowIsolation } : {}),
    onFault: (fault) => logger.error({ fault: fault.kind, executionId: fault.executionId }, `${fault.kind} in a workflow (the server keeps running): ${fault.message}`),
  });
  app.addHook("onClose", () => runner.close());
  if (workflows.size > 0) runner.warm();
  workflowRoutes(api, workflows, runner);
  workflowApiRoutes(api);
  sdkRoutes(api);
  consoleSupportRoutes(api);
  connectionRoutes(api);
  consoleRoutes(api, { devLogin: opts.devLogin === true, ...(opts.consoleDir !== undefined ? { consoleDir: opts.consoleDir } : {}) });
  mcpRoutes(api);
  openApiRoute(api, packageVersion());
  await app.ready();
  return app;
}
