import { z } from "zod";
import { getProvider, searchProviders } from "../../catalog/index.js";
import { ADMIN_ROLES } from "../auth.js";
import type { Api } from "../route.js";
import { nextCursor, PAGE_PARAMS } from "../schemas.js";
import { pageInMemory, pageLimit } from "../../core/page.js";

const tag = "catalog";

const CatalogQuery = z.strictObject({ ...PAGE_PARAMS, q: PAGE_PARAMS.q.describe("Every word must appear in the id, name, category or auth kind (case-insensitive).") });

const ProviderSummary = z.looseObject({
  id: z.string(),
  name: z.string(),
  category: z.string(),
  auth: z.array(z.string()),
  api_base_url: z.string(),
  docs_url: z.string(),
});

export function catalogRoutes(api: Api): void {
  api.route({
    method: "GET",
    url: "/api/catalog",
    summary: "List the provider catalog by id, paginated (q: every word must appear in the id, name, category or auth kind). Entries are the same as `bifrost catalog list --json`.",
    tag,
    roles: ADMIN_ROLES,
    action: "read the provider catalog",
    query: CatalogQuery,
    response: z.object({ providers: z.array(ProviderSummary), next_cursor: nextCursor }),
    handler: async ({ query }) => {
      const all = [...searchProviders(query.q ?? "")].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const page = pageInMemory(all, { limit: pageLimit(query.limit), cursor: query.cursor, kind: "catalog", key: (p) => p.id });
      return { providers: page.rows, next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "GET",
    url: "/api/catalog/:id",
    summary: "One catalog provider: OAuth URLs and placeholders, scopes, quirks, entity capture, config keys, test request. Unknown id: 404 BIFROST_PROVIDER_UNKNOWN with close matches.",
    tag,
    roles: ADMIN_ROLES,
    action: "read the provider catalog",
    response: z.object({ provider: ProviderSummary }),
    handler: async ({ params }) => ({ provider: getProvider(params.id) }),
  });
}
