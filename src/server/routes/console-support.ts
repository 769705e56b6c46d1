/**
 * Routes the web console needs beyond the resource API: an integrations overview (one request for
 * the list page), an organization overview (every integration with the org's mapping and connection
 * state), bulk mapping (all rows in one transaction: one bad row → nothing is saved) and "test
 * connection" (a GET of `base_url + path` with the org's resolved auth, through the OAuth core's
 * guarded fetch, answered with status, latency and a redacted, truncated body).
 */
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { BifrostError, IntegrationNotFoundError, ValidationError } from "../../core/errors.js";
import { redactText } from "../../crypto/redact.js";
import { guardedRequest } from "../../oauth/guarded-fetch.js";
import { resolveOptions } from "../../oauth/options.js";
import { getOAuthStatus, type OAuthConnectionView, type OAuthDeps } from "../../oauth/service.js";
import { requireIntegration, requireOrg } from "../../kernel/lookup.js";
import { setMapping } from "../../services/mappings.js";
import { StoreResolver } from "../../host/store-resolver.js";
import { connectionError, trustOf } from "../../runtime/resolved.js";
import { checkTrusted, targetOf } from "../../client/trust.js";
import { ADMIN_ROLES, actorOf, type Caller, checkOrgAccess, isPlatform, PLATFORM_ONLY } from "../auth.js";
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

export const TestConnectionBody = z.strictObject({
  org: z.string().min(1).max(200).optional().describe("Organization slug whose resolved config and OAuth connection are used; omitted = the integration defaults."),
  path: z.string().min(1).max(2048).describe("Path (and query) appended to the integration's base_url; must start with a single `/`."),
});

/** The body shown in the console: at most this many characters (after decoding and redaction). */
const TEST_BODY_CHARS = 2048;
/** Responses larger than this are refused by the guarded fetch (the console shows the first 2 KB only). */
const TEST_MAX_BYTES = 256 * 1024;
const TEST_TIMEOUT_MS = 10_000;

/**
 * `base_url` + `path` as one URL that stays under the base URL (same origin, same path prefix).
 * Refused: a path not starting with one `/` (schemes, `//host`), backslashes, whitespace or control
 * characters, fragments, and `.` / `..` segments (also percent-encoded).
 */
export function testConnectionUrl(baseUrl: string, path: string): URL {
  const refuse = (why: string) => new ValidationError(`path ${why}`, { path: "path" });
  if (!path.startsWith("/")) throw refuse("must start with / (a path under the integration's base_url, not a URL).");
  if (path.startsWith("//")) throw refuse("must not start with // (that would name another host).");
  if (/[\\\s\x00-\x1f\x7f]/.test(path)) throw refuse("must not contain backslashes, spaces or control characters.");
  if (path.includes("#")) throw refuse("must not contain a fragment (#).");
  const pathname = path.split("?")[0] as string;
  for (const seg of pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw refuse("has malformed percent-encoding.");
    }
    if (decoded === "." || decoded === ".." || decoded.includes("/") || decoded.includes("\\")) throw refuse("must not contain . or .. segments (or encoded slashes).");
  }
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new ValidationError("The integration's base_url is not a valid absolute URL.", { path: "base_url" });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new ValidationError(`The integration's base_url must be http(s); it is ${base.protocol}.`, { path: "base_url" });
  const prefix = base.pathname.replace(/\/+$/, "");
  const url = new URL(`${base.origin}${prefix}${path}`);
  if (url.origin !== base.origin || !(url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))) throw refuse("leaves the integration's base_url.");
  return url;
}

/** Guarded-fetch errors talk about "OAuth endpoints"; say what they mean for a test call. */
function testError(err: BifrostError, secrets: readonly string[]): BifrostError {
  const message = redactText(err.message, secrets)
    .replace(/OAuth endpoint /g, "")
    .replace(/OAuth requests never follow redirects/, "a test connection does not follow redirects");
  return new BifrostError(err.code, err.statusCode, `Test connection failed: ${message}`, err.details);
}

function connectionOut(c: OAuthConnectionView | undefined) {
  if (!c) return null;
  return { state: c.state, expires_at: c.expiresAt, last_error: c.lastError, level: c.level };
}

/**
 * Test connection: GET base_url + path with the org's resolved auth (OAuth bearer token when connected,
 * else none) through the guarded fetch. The answer carries status, latency and the first 2 KB of the
 * body with every secret and token redacted; never the request headers. Callers check the role first.
 */
export async function testConnection(deps: OAuthDeps, resolver: StoreResolver, input: { integration: string; org?: string; path: string }) {
  const name = input.integration;
  const integration = await requireIntegration(deps.store, name);
  const org = input.org ? await requireOrg(deps.store, input.org) : null;
  const resolved = await resolver.resolve(name, org ? { id: org.id, slug: org.slug, name: org.name } : null);
  if (!resolved) throw new IntegrationNotFoundError(name);
  const baseUrl = resolved.config.has("base_url") ? resolved.config.get("base_url") : undefined;
  if (typeof baseUrl !== "string" || baseUrl === "") {
    throw new ValidationError(`Integration "${name}" has no base_url value${org ? ` for organization "${org.slug}"` : ""}; add a string key base_url to the schema and set it.`, { path: "base_url" });
  }
  const url = testConnectionUrl(baseUrl, input.path);
  // The same origin rule as the client runtime: an integration-level token only to a trusted origin.
  const broken = connectionError(resolved);
  if (broken) throw broken;
  const oauth = resolved.oauth;
  if (oauth) checkTrusted(resolved, targetOf(resolved, [], "base_url"), url.origin, trustOf(resolved).oauthLevel ?? "integration", "test-connection");
  const secrets = [...resolved.config.secretValues(), ...(oauth ? [oauth.accessToken, ...(oauth.refreshToken ? [oauth.refreshToken] : [])] : [])].filter((s) => typeof s === "string");
  const headers: Record<string, string> = { accept: "application/json, text/plain;q=0.9, */*;q=0.5", "user-agent": "bifrost-test-connection" };
  if (oauth) headers.authorization = `Bearer ${oauth.accessToken}`;
  const started = performance.now();
  let res;
  try {
    res = await guardedRequest(url.toString(), { method: "GET", headers }, { ...resolveOptions(deps.oauth), timeoutMs: TEST_TIMEOUT_MS, maxResponseBytes: TEST_MAX_BYTES, privateNetwork: integration.privateNetwork });
  } catch (err) {
    if (err instanceof BifrostError) throw testError(err, secrets);
    throw err;
  }
  const latency = Math.round(performance.now() - started);
  // Redact the whole text before cutting it, so a secret straddling the cut cannot leak a prefix.
  const text = redactText(new TextDecoder("utf-8").decode(res.body), secrets);
  const binary = text.includes("\u0000");
  const shown = binary ? `(binary body, ${res.body.byteLength} bytes)` : text.slice(0, TEST_BODY_CHARS);
  return {
    integration: name,
    org: org?.slug ?? null,
    url: redactText(url.toString(), secrets),
    auth: oauth ? "oauth_bearer" : "none",
    status: res.status,
    latency_ms: latency,
    content_type: res.headers.get("content-type"),
    bytes: res.body.byteLength,
    truncated: !binary && text.length > TEST_BODY_CHARS,
    body: shown,
  };
}

export function consoleSupportRoutes(api: Api): void {
  const bf = api.bifrost;
  const deps = api.oauthDeps;
  const resolver = new StoreResolver(bf.store, bf.box, { clock: bf.clock, ...(deps.oauth ? { oauth: deps.oauth } : {}) });
  // Its queued secret.read audit entries (test connection) are written before the server stops.
  api.app.addHook("onClose", () => resolver.flushAudit());

  /** One integration's org connections the caller may see (none without a provider). */
  const visibleStatus = async (caller: Caller, integration: string, hasProvider: boolean): Promise<OAuthConnectionView[]> => {
    if (!hasProvider) return [];
    const slug = isPlatform(caller) ? undefined : (caller.orgSlug ?? undefined);
    if (!isPlatform(caller) && slug === undefined) return [];
    const all = await getOAuthStatus(deps, { integration, ...(slug ? { org: slug } : {}) });
    return all.filter((c) => c.org !== null);
  };

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
      const out = [];
      for (const i of page.rows) {
        const provider = await bf.store.getOAuthProvider(i.id);
        const mappings = await bf.store.listMappings({ integrationId: i.id, ...(isPlatform(caller) ? {} : { orgId: caller.orgId ?? "-" }) });
        const conns = await visibleStatus(caller, i.name, provider !== null);
        out.push({
          name: i.name,
          description: i.description,
          config_keys: i.configSchema.map((k) => k.key),
          oauth_flow: provider?.flow ?? null,
          mapped_orgs: mappings.length,
          connected_orgs: conns.filter((c) => c.state === "connected" || c.state === "refreshing").length,
          needs_reauth_orgs: conns.filter((c) => c.state === "needs_reauth").length,
          error_orgs: conns.filter((c) => c.state === "error").length,
        });
      }
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
      const status = await getOAuthStatus(deps, { org: org.slug });
      const out = [];
      for (const i of await bf.store.listIntegrations()) {
        const m = await bf.store.getMapping(i.id, org.id);
        const overrides = m ? (await bf.store.listConfigValues(i.id, org.id)).length : 0;
        const provider = await bf.store.getOAuthProvider(i.id);
        out.push({
          integration: i.name,
          mapped: m !== null,
          entity_id: m?.entityId ?? null,
          entity_name: m?.entityName ?? null,
          override_count: overrides,
          oauth_flow: provider?.flow ?? null,
          connection: connectionOut(status.find((c) => c.integration === i.name)),
        });
      }
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
    method: "POST",
    url: "/api/integrations/:name/test-connection",
    summary:
      "Test connection: GET base_url + path with the org's resolved auth (OAuth bearer token when connected, else none) through the guarded fetch (https only, no redirects, size cap, timeout). Answers status, latency and the first 2 KB of the body, redacted; never the request headers.",
    tag,
    roles: PLATFORM_ONLY,
    action: "test integration connections",
    body: TestConnectionBody,
    handler: async ({ params, body }) => testConnection(deps, resolver, { integration: params.name as string, ...(body.org ? { org: body.org } : {}), path: body.path }),
  });
}
