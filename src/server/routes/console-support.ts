/**
 * Routes the web console needs beyond the resource API: an integrations overview (one request for
 * the list page), an organization overview (every integration with the org's mapping and connection
 * state), bulk mapping (all rows in one transaction: one bad row → nothing is saved) and "test
 * connection" (one request to `base_url + path` with any method and auth form, through the runtime's
 * integration.fetch() path; see ../test-connection.ts).
 */
import { z } from "zod";
import { BifrostError } from "../../core/errors.js";
import { getOAuthStatus, type OAuthConnectionView } from "../../oauth/service.js";
import { requireOrg } from "../../kernel/lookup.js";
import { setMapping } from "../../services/mappings.js";
import { StoreResolver } from "../../host/store-resolver.js";
import { TestConnectionBody, TestConnectionOptions, TestConnectionResult, testConnection, testConnectionOptions } from "../test-connection.js";
import { ADMIN_ROLES, actorOf, checkOrgAccess, isPlatform, PLATFORM_ONLY } from "../auth.js";
import type { Api } from "../route.js";
import { mappingOut } from "../views.js";
import { PageQuery } from "../schemas.js";
import { cutPage, pageRequest } from "../../core/page.js";

const tag = "console";

const Entity = z.union([z.string().max(512), z.null()]).optional();

const BulkMappingsBody = z.strictObject({
  rows: z
    .array(z.strictObject({ org: z.string().min(1).max(200), entity_id: Entity, entity_name: Entity }))
    .min(1)
    .max(1000)
    .describe("One row per organization: its slug, entity id and entity name."),
});

function connectionOut(c: OAuthConnectionView | undefined) {
  if (!c) return null;
  return { state: c.state, expires_at: c.expiresAt, last_error: c.lastError, level: c.level };
}

export function consoleSupportRoutes(api: Api): void {
  const bf = api.bifrost;
  const deps = api.oauthDeps;
  const resolver = new StoreResolver(bf.store, bf.box, { clock: bf.clock, ...(deps.oauth ? { oauth: deps.oauth } : {}) });
  // Its queued secret.read audit entries (test connection) are written before the server stops.
  api.app.addHook("onClose", () => resolver.flushAudit());

  api.route({
    method: "GET",
    url: "/api/console/integrations",
    summary:
      "Console overview of integrations by name, paginated (q: name or description): config keys, OAuth flow, mapped / connected / needs-re-auth counts (org-scoped keys: their own org only).",
    tag,
    roles: ADMIN_ROLES,
    action: "read the integrations overview",
    query: PageQuery,
    handler: async ({ caller, query }) => {
      const { limit, read } = pageRequest(query, "integrations", ["s"]);
      const page = cutPage(await bf.store.pageIntegrations(read), limit, "integrations", (i) => [i.name]);
      // An org-scoped key without an organization sees no organization's counts.
      const scope = isPlatform(caller) ? {} : caller.orgId === null ? null : { scopeOrgId: caller.orgId };
      // The page's rows are independent: their two reads each go out together, not one row after another.
      const out = await Promise.all(
        page.rows.map(async (i) => {
          const [provider, counts] = await Promise.all([
            bf.store.getOAuthProvider(i.id),
            // Mapped organizations by connection state (one grouped query); the state is null without a provider.
            scope === null ? [] : bf.store.countIntegrationOrgs({ integrationId: i.id, ...scope }),
          ]);
          const mapped = counts.filter((c) => c.mapped);
          const count = (states: readonly string[]) => mapped.filter((c) => c.state !== null && states.includes(c.state)).reduce((n, c) => n + c.count, 0);
          return {
            name: i.name,
            description: i.description,
            config_keys: i.configSchema.map((k) => k.key),
            oauth_flow: provider?.flow ?? null,
            mapped_orgs: mapped.reduce((n, c) => n + c.count, 0),
            connected_orgs: count(["connected", "refreshing"]),
            needs_reauth_orgs: count(["needs_reauth"]),
            error_orgs: count(["error"]),
          };
        }),
      );
      return { integrations: out, next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "GET",
    url: "/api/console/organizations/:slug",
    summary: "Console overview of one organization: every integration with the org's mapping, override count and connection state.",
    tag,
    roles: ADMIN_ROLES,
    action: "read an organization overview",
    handler: async ({ caller, params }) => {
      const slug = params.slug as string;
      checkOrgAccess(caller, slug);
      const org = await requireOrg(bf.store, slug);
      const [status, integrations] = await Promise.all([getOAuthStatus(deps, { org: org.slug }), bf.store.listIntegrations()]);
      // Each integration's reads are independent: they go out together, not one integration after another.
      const out = await Promise.all(
        integrations.map(async (i) => {
          const [m, provider] = await Promise.all([bf.store.getMapping(i.id, org.id), bf.store.getOAuthProvider(i.id)]);
          const overrides = m ? (await bf.store.listConfigValues(i.id, org.id)).length : 0;
          return {
            integration: i.name,
            mapped: m !== null,
            entity_id: m?.entityId ?? null,
            entity_name: m?.entityName ?? null,
            override_count: overrides,
            oauth_flow: provider?.flow ?? null,
            connection: connectionOut(status.find((c) => c.integration === i.name)),
          };
        }),
      );
      return { org: { slug: org.slug, name: org.name }, integrations: out };
    },
  });

  api.route({
    method: "POST",
    url: "/api/integrations/:name/mappings/bulk",
    summary: "Create or update many mappings at once (org, entity_id, entity_name). All rows are written in one transaction: any invalid row → nothing is saved, and the error names the row.",
    tag,
    roles: ADMIN_ROLES,
    action: "write mappings",
    body: BulkMappingsBody,
    handler: async ({ caller, params, body }) => {
      const name = params.name as string;
      const seen = new Map<string, number>();
      body.rows.forEach((r, i) => {
        const prev = seen.get(r.org);
        if (prev !== undefined) throw new BifrostError("BIFROST_VALIDATION", 422, `Row ${i + 1}: organization "${r.org}" also appears in row ${prev + 1}; nothing was saved.`, { path: `rows[${i}].org`, row: i });
        seen.set(r.org, i);
      });
      const results = await bf.store.transaction(async (tx) => {
        const done = [];
        for (const [i, r] of body.rows.entries()) {
          try {
            checkOrgAccess(caller, r.org);
            const res = await setMapping({ ...bf, store: tx }, name, r.org, {
              ...(r.entity_id === undefined ? {} : { entityId: r.entity_id }),
              ...(r.entity_name === undefined ? {} : { entityName: r.entity_name }),
            }, actorOf(caller));
            done.push({ mapping: mappingOut(res.mapping), created: res.created, changed: res.changed });
          } catch (err) {
            if (!(err instanceof BifrostError)) throw err;
            const field = typeof err.details?.path === "string" && /^entity_(id|name)$/.test(err.details.path) ? err.details.path : "org";
            throw new BifrostError(err.code, err.statusCode, `Row ${i + 1} (${r.org}): ${err.message} Nothing was saved.`, { ...(err.details ?? {}), path: `rows[${i}].${field}`, row: i });
          }
        }
        return done;
      });
      return { integration: name, results, created: results.filter((r) => r.created).length, updated: results.filter((r) => !r.created && r.changed).length };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/test-connection",
    summary: "Test connection options: the auth forms this integration can use (oauth with an OAuth provider; bearer, basic, api-key when its schema has their config keys; none), the default one and the methods.",
    tag,
    roles: PLATFORM_ONLY,
    action: "test integration connections",
    response: TestConnectionOptions,
    handler: async ({ params }) => testConnectionOptions(deps, params.name as string),
  });

  api.route({
    method: "POST",
    url: "/api/integrations/:name/test-connection",
    summary:
      "Test connection: one request (GET, HEAD, POST, PUT, PATCH, DELETE) to base_url + path with the org's resolved credentials for the auth form asked (as `bifrost sdk generate --auth`), through the runtime's integration.fetch() path: trust rule, outbound policy, no redirects followed, body read capped, timeout. Answers the auth used (kind and config key names), status, duration, a header subset and the first 2 KB of the body, every secret redacted.",
    tag,
    roles: PLATFORM_ONLY,
    action: "test integration connections",
    body: TestConnectionBody,
    response: TestConnectionResult,
    handler: async ({ params, body }) => testConnection(deps, resolver, { integration: params.name as string, ...body }),
  });
}
