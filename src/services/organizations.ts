import { ConflictError, ValidationError } from "../core/errors.js";
import { checkOrgSlug } from "../core/names.js";
import type { Organization } from "../core/types.js";
import type { Deps } from "../kernel/deps.js";
import { requireOrg } from "../kernel/lookup.js";
import { cutPage, type Page, type PageInput, pageRequest } from "../core/page.js";

/** One page of organizations by slug; `onlyOrgId` confines an org-scoped caller to its own. */
export async function listOrgsPage(deps: Deps, input: PageInput, onlyOrgId: string | null = null): Promise<Page<Organization>> {
  const { limit, read } = pageRequest(input, "orgs", ["s"]);
  const rows = await deps.store.pageOrgs({ ...read, ...(onlyOrgId === null ? {} : { onlyId: onlyOrgId }) });
  return cutPage(rows, limit, "orgs", (o) => [o.slug]);
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || name.trim() === "" || name.length > 200) {
    throw new ValidationError(`Organization name must be a non-empty string of at most 200 characters.`, { name });
  }
  return name.trim();
}

export async function createOrg(deps: Deps, input: { slug: string; name?: string }): Promise<Organization> {
  const slug = checkOrgSlug(input.slug);
  const name = checkName(input.name ?? slug);
  const now = deps.clock.now();
  const org: Organization = { id: deps.clock.id(), slug, name, createdAt: now, updatedAt: now };
  await deps.store.insertOrg(org);
  return org;
}

export async function updateOrg(deps: Deps, slug: string, patch: { name?: string | undefined; slug?: string | undefined }): Promise<Organization> {
  const org = await requireOrg(deps.store, slug);
  const next = {
    ...(patch.name === undefined ? {} : { name: checkName(patch.name) }),
    ...(patch.slug === undefined ? {} : { slug: checkOrgSlug(patch.slug) }),
  };
  const updatedAt = deps.clock.now();
  await deps.store.updateOrg(org.id, { ...next, updatedAt });
  return { ...org, ...next, updatedAt };
}

/** Refuses while the org has mappings: they carry its entity ids, overrides and (later) tokens. */
export async function deleteOrg(deps: Deps, slug: string): Promise<void> {
  const org = await requireOrg(deps.store, slug);
  await deps.store.retryingTransaction(async (tx) => {
    const mappings = await tx.listMappings({ orgId: org.id });
    if (mappings.length > 0) {
      throw new ConflictError(
        `Organization "${slug}" has ${mappings.length} mapping(s); remove them first (\`bifrost mappings remove INTEGRATION --org ${slug}\`). Nothing was deleted.`,
        { org: slug, mappings: mappings.length },
      );
    }
    await tx.deleteOrg(org.id);
  });
}
