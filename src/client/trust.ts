/**
 * Where a credential may go (DESIGN §9.1), for every request the client runtime makes (generated
 * calls and `integration.fetch()`). The outbound policy itself is in the SDK core (runtime/outbound.ts).
 */
import { ClientError } from "./errors.js";
import { str } from "./serialize.js";
import type { AuthApplier, AuthParts, SecurityRequirement, SecurityScheme } from "./types.js";
import { currentContext } from "../runtime/context.js";
import { connectionError, trustOf } from "../runtime/resolved.js";
import type { CredentialLevel, ExecutionOrg } from "../kernel/types.js";
import type { ResolvedIntegration } from "../runtime/types.js";

/** The config value of `key` as a string (`str`); undefined when unset or empty. */
function configString(integ: ResolvedIntegration, key: string): string | undefined {
  const v = integ.config.has(key) ? integ.config.get(key) : undefined;
  return (v ?? "") === "" ? undefined : str(v);
}

/** A spec server: URL template and its variables (a subset of the client's ServerSpec). */
interface Server {
  url: string;
  variables?: Record<string, { default: string; configKey?: string }>;
}

/**
 * The origins integration-level credentials may go to: the default (integration-level) value of
 * `baseKey`, the spec's servers with variables from the defaults, and the integration's `trusted_origins`.
 * An org override never adds to this set.
 */
function trustedOrigins(integ: ResolvedIntegration, servers: readonly Server[], baseKey: string): Set<string> {
  const trust = trustOf(integ);
  const def = (k: string): string | undefined => (integ.config.levelOf(k) === "org" ? trust.defaults.get(k) || undefined : configString(integ, k));
  const out = new Set<string>();
  const add = (u: string | undefined): void => {
    if (u && /^https?:\/\//i.test(u)) {
      try {
        out.add(new URL(u).origin);
      } catch {
        // not a URL: nothing to trust
      }
    }
  };
  add(def(baseKey));
  for (const s of servers) add(s.url.replace(/\{([^}]+)\}/g, (_m, n: string) => def(s.variables?.[n]?.configKey ?? n) ?? s.variables?.[n]?.default ?? ""));
  for (const o of trust.trustedOrigins) add(o);
  return out;
}

/** Where one client's requests for one resolved integration go. */
export interface Target {
  /** The base URL in effect, without a trailing slash; "" when there is no absolute one. */
  base: string;
  /** The base URL as configured, for the error when it is not absolute. */
  raw: string | null;
  /** The origin of the base URL in effect (an org-level credential may go there). */
  origin: string;
  /** The integration's trusted origins (see `trustedOrigins`). */
  trusted: ReadonlySet<string>;
  privateNetwork: boolean;
  org: ExecutionOrg | null;
}

/**
 * The base URL in effect for the org: config `baseKey` if set, else the first server's URL with
 * variables from config (`variables[v].configKey ?? v`) then their defaults; and the trust inputs.
 */
export function targetOf(integ: ResolvedIntegration, servers: readonly Server[], baseKey: string): Target {
  const trust = trustOf(integ);
  const get = (k: string): string | undefined => configString(integ, k);
  let base = get(baseKey);
  const server = servers[0];
  if (!base && server) base = server.url.replace(/\{([^}]+)\}/g, (_m, n: string) => get(server.variables?.[n]?.configKey ?? n) ?? server.variables?.[n]?.default ?? "");
  const u = /^https?:\/\//i.test(base ?? "") ? new URL(base as string) : null;
  return { base: u ? u.href.replace(/\/+$/, "") : "", raw: base ?? null, origin: u?.origin ?? "", trusted: trustedOrigins(integ, servers, baseKey), privateNetwork: trust.privateNetwork, org: trust.org };
}

/** One satisfied security requirement and the level of the credentials in it (null: none sent). */
export type Cred = AuthParts & { level: CredentialLevel | null };

/**
 * The first satisfiable security requirement of `reqs` (none: one empty requirement, "no auth"), as
 * headers / query / cookies to add, with the level of its credentials. `noToken`: the OAuth token is
 * not offered (integration.fetch() with config-key auth). Throws BIFROST_OAUTH_NEEDS_REAUTH (or
 * BIFROST_OAUTH_TRANSIENT) when only the OAuth token would do and the connection is broken, else
 * BIFROST_CLIENT_CREDENTIALS_MISSING naming the keys to set.
 */
export function credentialsFor(
  integ: ResolvedIntegration,
  schemes: Record<string, SecurityScheme>,
  appliers: readonly AuthApplier[],
  reqs: readonly SecurityRequirement[],
  operationId: string,
  noToken: boolean,
): Cred {
  const wanted: string[] = [];
  const token = noToken ? undefined : integ.oauth?.accessToken;
  for (const req of reqs[0] ? reqs : [{}]) {
    const auth: Cred = { headers: [], query: "", cookie: "", token: null, level: null };
    // The config keys this requirement's credentials came from: their levels decide where they may go.
    const used: string[] = [];
    const get = (k: string): string | undefined => {
      const v = configString(integ, k);
      if (v !== undefined) used.push(k);
      return v;
    };
    let ok = true;
    for (const name in req) {
      const s = schemes[name];
      let r: boolean | string = false;
      if (s) for (const a of appliers) if ((r = a(s, get, token, auth)) !== false) break;
      if (r !== true) {
        ok = false;
        if (r) wanted.push(r);
      }
    }
    if (ok) {
      auth.level = credentialLevel(integ, used, !!auth.token);
      return auth;
    }
  }
  const org = currentContext()?.org?.slug ?? null;
  const w = [...new Set(wanted)];
  // The OAuth connection is broken: say so (and how to fix it) instead of "no credentials".
  const broken = w.some((x) => x.startsWith("OAuth")) ? connectionError(integ) : null;
  if (broken) throw broken;
  throw new ClientError("BIFROST_CLIENT_CREDENTIALS_MISSING", 409, `${integ.name}: no credentials${org ? ` for organization "${org}"` : ""}; set ${w.join(" or ")}`, {
    integration: integ.name,
    org,
    operationId,
    wanted: w,
  });
}

/** The level of credentials built from config keys `keys` (and the OAuth token when `token`): null when none. */
function credentialLevel(integ: ResolvedIntegration, keys: readonly string[], token: boolean): CredentialLevel | null {
  const levels = keys.map((k) => integ.config.levelOf(k));
  if (token) levels.push(trustOf(integ).oauthLevel ?? "integration");
  return levels.includes("integration") ? "integration" : levels[0] ? "org" : null;
}

/**
 * Throws BIFROST_CLIENT_UNTRUSTED_ORIGIN unless credentials of `level` may go to `origin`: any
 * trusted origin, and for org-level credentials also the org's own base URL.
 */
export function checkTrusted(integ: ResolvedIntegration, t: Target, origin: string, level: CredentialLevel | null, operationId: string): void {
  if (level && !t.trusted.has(origin) && !(level === "org" && origin === t.origin)) throw untrustedOrigin(integ, origin, level, operationId);
}

/** Refused before anything is sent: `level` credentials would go to `origin`, which is not trusted for them. */
function untrustedOrigin(integ: ResolvedIntegration, origin: string, level: CredentialLevel, operationId: string): ClientError {
  const org = trustOf(integ).org?.slug ?? null;
  const what = level === "integration" ? "integration-level credentials (defaults or the integration's OAuth connection)" : "this organization's credentials";
  const where =
    level === "integration" ? "the integration's trusted origins (the default base URL, the spec's servers, trusted_origins)" : "the integration's trusted origins nor the organization's own base URL";
  return new ClientError(
    "BIFROST_CLIENT_UNTRUSTED_ORIGIN",
    403,
    `${integ.name}: refusing to send ${what} to ${origin}${org ? ` for organization "${org}"` : ""}: it is not one of ${where}; nothing was sent. ` +
      `A platform admin can trust it by adding "${origin}" to the integration's trusted_origins (\`trusted_origins:\` in bifrost.yaml, or PATCH /api/integrations/${integ.name}); ` +
      `or the organization sets its own credential (\`bifrost config set ${integ.name} KEY=VALUE --org SLUG\`, \`bifrost oauth connect ${integ.name} --org SLUG\`).`,
    { integration: integ.name, org, origin, level, operationId },
  );
}
