import { z } from "zod";
import { getProvider, searchProviders } from "../../catalog/index.js";
import { ADMIN_ROLES } from "../auth.js";
import type { Api } from "../route.js";

const tag = "catalog";

const CatalogQuery = z.object({ q: z.string().max(200).optional() }).strict();

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
    summary: "List the provider catalog (q: every word must appear in the id, name, category or auth kind). Entries are the same as `bifrost catalog list --json`.",
    tag,
    roles: ADMIN_ROLES,
    action: "read the provider catalog",
    query: CatalogQuery,
    response: z.object({ providers: z.array(ProviderSummary) }),
    handler: async ({ query }) => ({ providers: searchProviders(query.q ?? "") }),
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
