/**
 * Connect links (issue 15): a one-time URL an operator sends to a customer's admin. Opening it needs no
 * API key; it names the integration and the organization and starts the authorization-code flow (PKCE)
 * for that organization, which ends at the usual callback.
 *
 * - The token (32 random bytes, base64url) is returned once, at creation; only its SHA-256 is stored.
 *   Events, logs and list views carry the link's id, never the token.
 * - The link is consumed when the flow starts (the page's POST), by a conditional update: two
 *   concurrent clicks start exactly one flow. A GET never consumes (mail scanners prefetch links).
 * - The OAuth state records `link:<id>` as its initiator; `url_param` entity capture then follows the
 *   link's creator (platform admin or CLI: captured; org admin: not, as for their own flows).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Integration } from "../core/types.js";
import { cutPage, type Page, type PageInput, pageRequest } from "../core/page.js";
import { requireIntegration, requireOrg } from "../kernel/lookup.js";
import type { Store, StoredConnectLink } from "../storage/store.js";
import { startAuthorization, type StartedAuthorization } from "./authorize.js";
import { ConnectLinkExpiresError, ConnectLinkGoneError, ConnectLinkNotFoundError, OAuthConfigError, OAuthNoProviderError } from "./errors.js";
import { recordAudit } from "../kernel/audit.js";
import { recordEvent } from "./events.js";
import type { RefreshDeps } from "./refresh.js";
import { readProvider } from "./tokens.js";

const LINK_INITIATOR_PREFIX = "link:";
const DEFAULT_EXPIRY_SECONDS = 7 * 86_400;
const MIN_EXPIRY_SECONDS = 5 * 60;
const MAX_EXPIRY_SECONDS = 30 * 86_400;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const UNITS: Readonly<Record<string, number>> = { m: 60, h: 3600, d: 86_400 };

/** `30m`, `12h`, `7d` → seconds (default 7d; 5 minutes … 30 days). */
function parseLinkExpiry(value: string | undefined): number {
  if (value === undefined) return DEFAULT_EXPIRY_SECONDS;
  const m = /^(\d{1,6})([mhd])$/.exec(value.trim());
  if (!m) throw new ConnectLinkExpiresError(`The link expiry "${value.slice(0, 32)}" is not a duration: use a number and a unit m, h or d (e.g. 30m, 12h, 7d).`);
  const seconds = Number(m[1]) * (UNITS[m[2] as string] as number);
  if (seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS) {
    throw new ConnectLinkExpiresError(`The link expiry "${value}" is out of range: a connect link lasts between 5 minutes (5m) and 30 days (30d).`);
  }
  return seconds;
}

function hashLinkToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

type ConnectLinkStatus = "active" | "used" | "expired" | "revoked";

export interface ConnectLinkView {
  id: string;
  integration: string;
  org: string;
  /** API key id that created it, or "cli". */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  status: ConnectLinkStatus;
}

export interface CreatedConnectLink extends ConnectLinkView {
  /** The one place the token appears: `${publicUrl}/connect/${token}`. */
  url: string;
}

async function integrationById(store: Store, id: string): Promise<Integration | null> {
  return (await store.listIntegrations()).find((i) => i.id === id) ?? null;
}

function statusOf(l: StoredConnectLink, now: string): ConnectLinkStatus {
  if (l.revokedAt) return "revoked";
  if (l.usedAt) return "used";
  return l.expiresAt <= now ? "expired" : "active";
}

async function viewOf(store: Store, l: StoredConnectLink, now: string, names?: { integration: string; org: string }): Promise<ConnectLinkView> {
  const integration = names?.integration ?? (await integrationById(store, l.integrationId))?.name ?? "?";
  const org = names?.org ?? (await store.getOrgById(l.orgId))?.slug ?? "?";
  return {
    id: l.id,
    integration,
    org,
    createdBy: l.createdBy ?? "cli",
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    usedAt: l.usedAt,
    revokedAt: l.revokedAt,
    status: statusOf(l, now),
  };
}

/** Create a link for one org. Authorization (who may create for which org) is the surface's job. */
export async function createConnectLink(
  deps: RefreshDeps,
  input: { integration: string; org: string; createdBy: string | null; expires?: string },
): Promise<CreatedConnectLink> {
  const seconds = parseLinkExpiry(input.expires);
  const integration = await requireIntegration(deps.store, input.integration);
  const org = await requireOrg(deps.store, input.org);
  const provider = await readProvider(deps.store, deps.box, integration.id);
  if (!provider) throw new OAuthNoProviderError(integration.name);
  if (provider.settings.flow !== "authorization_code") {
    throw new OAuthConfigError(`Integration "${integration.name}" uses the client_credentials flow: there is no consent to ask for, so no connect link.`, { integration: integration.name });
  }
  const token = randomBytes(32).toString("base64url");
  const now = deps.clock.now();
  const link: StoredConnectLink = {
    id: deps.clock.id(),
    tokenHash: hashLinkToken(token),
    integrationId: integration.id,
    orgId: org.id,
    createdBy: input.createdBy,
    createdAt: now,
    expiresAt: new Date(Date.parse(now) + seconds * 1000).toISOString(),
    usedAt: null,
    revokedAt: null,
    expiryRecordedAt: null,
  };
  await deps.store.transaction(async (tx) => {
    await tx.insertConnectLink(link);
    await recordEvent(tx, deps.clock, {
      type: "link.created",
      integrationId: integration.id,
      orgId: org.id,
      payload: { linkId: link.id, createdBy: link.createdBy ?? "cli", expiresAt: link.expiresAt },
    });
    await recordAudit({ store: tx, clock: deps.clock }, "link.create", {
      integration: { id: integration.id, name: integration.name },
      org: { id: org.id, slug: org.slug },
      keys: [link.id],
      detail: { expires_at: link.expiresAt },
    });
  });
  const view = await viewOf(deps.store, link, now, { integration: integration.name, org: org.slug });
  return { ...view, url: `${deps.oauth.publicUrl}/connect/${token}` };
}

/** One page of an integration's connect links, newest first (cursor: created_at and id). */
export async function listConnectLinks(deps: RefreshDeps, filter: { integration: string; org?: string | null } & PageInput): Promise<Page<ConnectLinkView>> {
  const integration = await requireIntegration(deps.store, filter.integration);
  const org = filter.org ? await requireOrg(deps.store, filter.org) : null;
  const now = deps.clock.now();
  const { limit, read } = pageRequest({ limit: filter.limit, cursor: filter.cursor }, "links", ["s", "s"]);
  const before = read.after ? { createdAt: String(read.after[0]), id: String(read.after[1]) } : undefined;
  const rows = await deps.store.listConnectLinks({ integrationId: integration.id, ...(org ? { orgId: org.id } : {}), ...(before ? { before } : {}), limit: read.limit });
  const page = cutPage(rows, limit, "links", (l) => [l.createdAt, l.id]);
  const slugs = new Map<string, string>();
  const out: ConnectLinkView[] = [];
  for (const l of page.rows) {
    if (!slugs.has(l.orgId)) slugs.set(l.orgId, (await deps.store.getOrgById(l.orgId))?.slug ?? "?");
    out.push(await viewOf(deps.store, l, now, { integration: integration.name, org: slugs.get(l.orgId) as string }));
  }
  return { rows: out, nextCursor: page.nextCursor };
}

/**
 * Revoke an unused link. `org` restricts to one organization (org-scoped callers): a link of another
 * org answers not found, exactly like a missing one.
 */
export async function revokeConnectLink(deps: RefreshDeps, input: { id: string; org?: string | null }): Promise<ConnectLinkView> {
  const link = await deps.store.getConnectLink(input.id);
  const notFound = new ConnectLinkNotFoundError(`No connect link with id "${input.id.slice(0, 64)}". List them with \`bifrost oauth links list INTEGRATION\`.`);
  if (!link) throw notFound;
  if (input.org) {
    const org = await deps.store.getOrgBySlug(input.org);
    if (!org || org.id !== link.orgId) throw notFound;
  }
  const now = deps.clock.now();
  if (!(await deps.store.revokeConnectLink(link.id, now))) {
    const current = (await deps.store.getConnectLink(link.id)) ?? link;
    throw new ConnectLinkGoneError(current.revokedAt ? "revoked" : "used", `Connect link ${link.id} was already ${current.revokedAt ? "revoked" : "used"}; nothing changed.`);
  }
  await recordEvent(deps.store, deps.clock, { type: "link.revoked", integrationId: link.integrationId, orgId: link.orgId, payload: { linkId: link.id } });
  const view = await viewOf(deps.store, { ...link, revokedAt: now }, now);
  await recordAudit(deps, "link.revoke", { integration: { id: link.integrationId, name: view.integration }, org: { id: link.orgId, slug: view.org }, keys: [link.id] });
  return view;
}

/** What the public page may show: the integration's display name and the organization's name, nothing else. */
export interface ConnectLinkPage {
  integration: string;
  organization: string;
}

const GONE_MESSAGES = {
  used: "This connect link was already used. A link works once: ask whoever sent it for a new one.",
  expired: "This connect link has expired. Ask whoever sent it for a new one.",
  revoked: "This connect link was withdrawn by its sender. Ask them for a new one.",
} as const;

async function findUsable(deps: RefreshDeps, token: string): Promise<StoredConnectLink> {
  const link = TOKEN_SHAPE.test(token) ? await deps.store.getConnectLinkByHash(hashLinkToken(token)) : null;
  if (!link) throw new ConnectLinkNotFoundError();
  const now = deps.clock.now();
  const status = statusOf(link, now);
  if (status === "expired" && (await deps.store.markConnectLinkExpiryRecorded(link.id, now))) {
    await recordEvent(deps.store, deps.clock, { type: "link.expired", integrationId: link.integrationId, orgId: link.orgId, payload: { linkId: link.id, expiresAt: link.expiresAt } });
  }
  if (status !== "active") throw new ConnectLinkGoneError(status, GONE_MESSAGES[status]);
  return link;
}

/** The page behind `GET /connect/{token}`; never consumes the link. */
export async function describeConnectLink(deps: RefreshDeps, token: string): Promise<ConnectLinkPage> {
  const link = await findUsable(deps, token);
  const integration = await integrationById(deps.store, link.integrationId);
  const org = await deps.store.getOrgById(link.orgId);
  if (!integration || !org) throw new ConnectLinkNotFoundError();
  return { integration: integration.name, organization: org.name };
}

/**
 * Start the authorization-code flow for the link's org, then consume the link (conditional update: one
 * winner). The flow is prepared first so a provider that is unreachable or misconfigured does not burn
 * the link; a loser's prepared state is closed at once and its URL never leaves this function. The
 * state's initiator is `link:<id>`.
 */
export async function useConnectLink(deps: RefreshDeps, token: string): Promise<StartedAuthorization> {
  const link = await findUsable(deps, token);
  const integration = await integrationById(deps.store, link.integrationId);
  const org = await deps.store.getOrgById(link.orgId);
  if (!integration || !org) throw new ConnectLinkNotFoundError();
  const started = await startAuthorization(deps, { integration: integration.name, org: org.slug, initiatorKeyId: `${LINK_INITIATOR_PREFIX}${link.id}` });
  if (!(await deps.store.useConnectLink(link.id, deps.clock.now()))) {
    await deps.store.consumeOAuthState(started.state, "cancelled");
    // Lost the race to another click, or it expired / was revoked in between.
    const current = (await deps.store.getConnectLink(link.id)) ?? link;
    const status = statusOf(current, deps.clock.now());
    const reason = status === "active" ? "used" : status;
    throw new ConnectLinkGoneError(reason, GONE_MESSAGES[reason]);
  }
  await recordEvent(deps.store, deps.clock, { type: "link.used", integrationId: link.integrationId, orgId: link.orgId, payload: { linkId: link.id } });
  return started;
}
