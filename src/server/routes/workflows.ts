import { NotFoundError, ValidationError } from "../../core/errors.js";
import type { WorkflowRunner } from "../../host/workflow-pool.js";
import { ALL_ROLES, checkOrgAccess, isPlatform, orgNotFound } from "../auth.js";
import type { Api } from "../route.js";
import { PageQuery, RunWorkflowBody, WorkflowsPageOut } from "../schemas.js";
import { matchesQ, pageInMemory, pageLimit } from "../../core/page.js";
import { logOutput, type WorkflowRegistry } from "../workflows.js";

const tag = "workflows";

export function workflowRoutes(api: Api, workflows: WorkflowRegistry, runner: WorkflowRunner): void {
  const bf = api.bifrost;

  api.route({
    method: "GET",
    url: "/api/workflows",
    summary: "Names of the workflows this server can run, sorted, paginated (q: name).",
    tag,
    roles: ALL_ROLES,
    action: "list workflows",
    query: PageQuery,
    response: WorkflowsPageOut,
    handler: async ({ query }) => {
      const names = [...workflows.keys()].filter((n) => matchesQ(query.q, n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const page = pageInMemory(names, { limit: pageLimit(query.limit), cursor: query.cursor, kind: "workflows", key: (n) => n });
      return { workflows: page.rows, next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "POST",
    url: "/api/workflows/:name/run",
    summary:
      "Run a workflow as an organization and return its JSON result. Org-scoped keys run as their own org; platform_admin keys must name one. Runs in a worker under the workflow limits: 504 BIFROST_WORKFLOW_TIMEOUT, 500 BIFROST_WORKFLOW_CRASHED, 429 BIFROST_BUSY with Retry-After.",
    tag,
    roles: ALL_ROLES,
    action: "run workflows",
    body: RunWorkflowBody,
    handler: async ({ caller, params, body, request }) => {
      const name = params.name as string;
      const def = workflows.get(name);
      if (!def) throw new NotFoundError(`Workflow "${name}" is not registered on this server. GET /api/workflows lists them.`, { workflow: name });
      const slug = body.org ?? caller.orgSlug;
      if (slug === null) throw new ValidationError(`A platform_admin key must say which organization to run as: pass "org" in the body.`, { path: "org" });
      checkOrgAccess(caller, slug);
      const org = await bf.resolver.findOrg(slug);
      if (!org) throw orgNotFound(slug);
      const res = await runner.run(def, body.input, {
        org,
        caller: { kind: "api_key", platform: isPlatform(caller), keyId: caller.keyId },
        resolver: bf.resolver,
        output: logOutput(request.log, def.name),
      });
      return { execution_id: res.executionId, workflow: res.workflow, org: res.org, result: res.result };
    },
  });
}
