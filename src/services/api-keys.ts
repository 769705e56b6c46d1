import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ValidationError } from "../core/errors.js";
import { API_KEY_ROLES, type ApiKeyRole } from "../core/types.js";
import type { StoredApiKey } from "../storage/store.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import { requireOrg } from "../kernel/lookup.js";
import { cutPage, type Page, type PageInput, pageRequest } from "../core/page.js";

const KEY_PATTERN = /^bfk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: ApiKeyRole;
  org: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The authenticated principal behind a request. */
export interface Principal {
  keyId: string;
  /** The key's public prefix and name (for attribution: logs and the audit trail). */
  keyPrefix: string;
  keyName: string;
  role: ApiKeyRole;
  /** The org an org_admin / workflow key is bound to. */
  orgId: string | null;
}

const hash = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

export async function createApiKey(deps: Deps, input: { role: string; org?: string | null; name?: string }): Promise<{ key: string; apiKey: ApiKeyView }> {
  if (!(API_KEY_ROLES as readonly string[]).includes(input.role)) {
    throw new ValidationError(`role must be one of ${API_KEY_ROLES.join(", ")}; got ${JSON.stringify(input.role)}.`, { role: input.role });
  }
  const role = input.role as ApiKeyRole;
  if (role === "platform_admin" && input.org) throw new ValidationError("A platform_admin key is not bound to an organization; omit --org.");
  if (role !== "platform_admin" && !input.org) throw new ValidationError(`A ${role} key is bound to one organization; pass --org SLUG.`);
  const org = input.org ? await requireOrg(deps.store, input.org) : null;
  const prefix = randomBytes(6).toString("hex");
  const key = `bfk_${prefix}_${randomBytes(32).toString("base64url")}`;
  const stored: StoredApiKey = {
    id: deps.clock.id(),
    name: input.name?.trim() || `${role}${org ? `:${org.slug}` : ""}`,
    prefix,
    secretHash: hash(key),
    role,
    orgId: org?.id ?? null,
    createdAt: deps.clock.now(),
    lastUsedAt: null,
    revokedAt: null,
  };
  await deps.store.transaction(async (store) => {
    await store.insertApiKey(stored);
    await recordAudit({ store, clock: deps.clock }, "key.create", { org: org ? { id: org.id, slug: org.slug } : null, keys: [stored.id], detail: { prefix, name: stored.name, role } });
  });
  return { key, apiKey: toView(stored, org?.slug ?? null) };
}

function toView(k: StoredApiKey, orgSlug: string | null): ApiKeyView {
  return { id: k.id, name: k.name, prefix: k.prefix, role: k.role, org: orgSlug, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt };
}

export async function listApiKeys(deps: Deps): Promise<ApiKeyView[]> {
  const orgs = new Map((await deps.store.listOrgs()).map((o) => [o.id, o.slug]));
  return (await deps.store.listApiKeys()).map((k) => toView(k, k.orgId ? (orgs.get(k.orgId) ?? null) : null));
}

/** One page of API keys, oldest first (q: name or prefix). Never the keys themselves. */
export async function listApiKeysPage(deps: Deps, input: PageInput): Promise<Page<ApiKeyView>> {
  const { limit, read } = pageRequest(input, "keys", ["s", "s"]);
  const page = cutPage(await deps.store.pageApiKeys(read), limit, "keys", (k) => [k.createdAt, k.id]);
  const rows = await Promise.all(page.rows.map(async (k) => toView(k, k.orgId ? ((await deps.store.getOrgById(k.orgId))?.slug ?? null) : null)));
  return { rows, nextCursor: page.nextCursor };
}

export async function revokeApiKey(deps: Deps, idOrPrefix: string): Promise<boolean> {
  const keys = await deps.store.listApiKeys();
  const k = keys.find((x) => x.id === idOrPrefix || x.prefix === idOrPrefix);
  if (!k || k.revokedAt) return false;
  await deps.store.transaction(async (store) => {
    await store.revokeApiKey(k.id, deps.clock.now());
    await recordAudit({ store, clock: deps.clock }, "key.revoke", { org: k.orgId ? { id: k.orgId } : null, keys: [k.id], detail: { prefix: k.prefix, name: k.name, role: k.role } });
  });
  return true;
}

/** Verify a presented key in constant time; null when unknown, malformed or revoked. */
export async function verifyApiKey(deps: Deps, presented: string): Promise<Principal | null> {
  const m = KEY_PATTERN.exec(presented);
  if (!m) return null;
  const stored = await deps.store.getApiKeyByPrefix(m[1] as string);
  if (!stored || stored.revokedAt) return null;
  const a = Buffer.from(hash(presented), "hex");
  const b = Buffer.from(stored.secretHash, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  return { keyId: stored.id, keyPrefix: stored.prefix, keyName: stored.name, role: stored.role, orgId: stored.orgId };
}
