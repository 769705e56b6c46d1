import { NotFoundError } from "../../core/errors.js";
import { createApiKey, listApiKeysPage, revokeApiKey } from "../../services/api-keys.js";
import { PLATFORM_ONLY } from "../auth.js";
import type { Api } from "../route.js";
import { CreateKeyBody, KeysPageOut, PageQuery } from "../schemas.js";
import { apiKeyOut } from "../views.js";

const tag = "api keys";

export function keyRoutes(api: Api): void {
  const bf = api.bifrost;

  api.route({
    method: "POST",
    url: "/api/keys",
    summary: "Create an API key. The key itself is in this response only; it is stored hashed.",
    tag,
    roles: PLATFORM_ONLY,
    action: "create API keys",
    body: CreateKeyBody,
    status: 201,
    handler: async ({ body, reply }) => {
      void reply.header("cache-control", "no-store");
      const res = await createApiKey(bf, { role: body.role, org: body.org ?? null, ...(body.name === undefined ? {} : { name: body.name }) });
      return { key: res.key, api_key: apiKeyOut(res.apiKey) };
    },
  });

  api.route({
    method: "GET",
    url: "/api/keys",
    summary: "List API keys, oldest first, paginated (q: name or prefix); never the keys themselves.",
    tag,
    roles: PLATFORM_ONLY,
    action: "list API keys",
    query: PageQuery,
    response: KeysPageOut,
    handler: async ({ query }) => {
      const page = await listApiKeysPage(bf, query);
      return { api_keys: page.rows.map(apiKeyOut), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/keys/:id",
    summary: "Revoke an API key (by id or prefix).",
    tag,
    roles: PLATFORM_ONLY,
    action: "revoke API keys",
    handler: async ({ params }) => {
      const id = params.id as string;
      if (!(await revokeApiKey(bf, id))) throw new NotFoundError(`API key "${id}" does not exist or is already revoked.`, { id });
      return { revoked: true, id };
    },
  });
}
