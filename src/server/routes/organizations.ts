import { createOrg, deleteOrg, listOrgsPage, updateOrg } from "../../services/organizations.js";
import { requireOrg } from "../../kernel/lookup.js";
import { ADMIN_ROLES, checkOrgAccess, isPlatform, PLATFORM_ONLY } from "../auth.js";
import type { Api } from "../route.js";
import { CreateOrgBody, OrgsPageOut, PageQuery, UpdateOrgBody } from "../schemas.js";
import { orgOut } from "../views.js";

const tag = "organizations";

export function organizationRoutes(api: Api): void {
  const bf = api.bifrost;

  api.route({
    method: "GET",
    url: "/api/organizations",
    summary: "List organizations by slug, paginated (q: slug or name). Org-scoped keys see only their own.",
    tag,
    roles: ADMIN_ROLES,
    action: "list organizations",
    query: PageQuery,
    response: OrgsPageOut,
    handler: async ({ caller, query }) => {
      // Fail closed: an org-scoped key without an organization is confined to an id no row has.
      const page = await listOrgsPage(bf, query, isPlatform(caller) ? null : (caller.orgId ?? "-"));
      return { organizations: page.rows.map(orgOut), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "POST",
    url: "/api/organizations",
    summary: "Create an organization.",
    tag,
    roles: PLATFORM_ONLY,
    action: "create organizations",
    body: CreateOrgBody,
    status: 201,
    handler: async ({ body }) => orgOut(await createOrg(bf, { slug: body.slug, ...(body.name === undefined ? {} : { name: body.name }) })),
  });

  api.route({
    method: "GET",
    url: "/api/organizations/:slug",
    summary: "Get one organization.",
    tag,
    roles: ADMIN_ROLES,
    action: "read organizations",
    handler: async ({ caller, params }) => {
      checkOrgAccess(caller, params.slug as string);
      return orgOut(await requireOrg(bf.store, params.slug as string));
    },
  });

  api.route({
    method: "PATCH",
    url: "/api/organizations/:slug",
    summary: "Rename an organization or change its slug.",
    tag,
    roles: PLATFORM_ONLY,
    action: "change organizations",
    body: UpdateOrgBody,
    handler: async ({ params, body }) => orgOut(await updateOrg(bf, params.slug as string, body)),
  });

  api.route({
    method: "DELETE",
    url: "/api/organizations/:slug",
    summary: "Delete an organization (refused while it has mappings).",
    tag,
    roles: PLATFORM_ONLY,
    action: "delete organizations",
    handler: async ({ params }) => {
      await deleteOrg(bf, params.slug as string);
      return { deleted: true, org: params.slug };
    },
  });
}
