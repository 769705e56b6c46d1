import { NotFoundError } from "../core/errors.js";
import { checkIntegrationName, checkOrgSlug } from "../core/names.js";
import type { Integration, Organization } from "../core/types.js";
import type { Store } from "../storage/store.js";

export async function requireOrg(store: Store, slug: string): Promise<Organization> {
  checkOrgSlug(slug);
  const org = await store.getOrgBySlug(slug);
  if (!org) throw new NotFoundError(`Organization "${slug}" does not exist. List them with \`bifrost orgs list\`.`, { org: slug });
  return org;
}

export async function requireIntegration(store: Store, name: string): Promise<Integration> {
  checkIntegrationName(name);
  const integration = await store.getIntegrationByName(name);
  if (!integration) throw new NotFoundError(`Integration "${name}" does not exist. List them with \`bifrost integrations list\`.`, { integration: name });
  return integration;
}
