/**
 * Where a credential may go (DESIGN §9.1), for every request the client runtime makes (generated
 * calls and `integration.fetch()`). The outbound policy itself is in the SDK core (runtime/outbound.ts).
 */
import { ClientError } from "./errors.js";
import type { AuthApplier, AuthParts, SecurityRequirement, SecurityScheme } from "./types.js";
import { currentContext } from "../runtime/context.js";
import { connectionError, trustOf } from "../runtime/resolved.js";
import { configString, credentialLevel, credentialsMissingMessage, type Target, untrustedOriginMessage } from "../runtime/request-policy.js";
import type { CredentialLevel } from "../kernel/types.js";
import type { ResolvedIntegration } from "../runtime/types.js";

export { targetOf, type Target } from "../runtime/request-policy.js";

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
  throw new ClientError("BIFROST_CLIENT_CREDENTIALS_MISSING", 409, credentialsMissingMessage(integ, org, w), { integration: integ.name, org, operationId, wanted: w });
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
  return new ClientError("BIFROST_CLIENT_UNTRUSTED_ORIGIN", 403, untrustedOriginMessage(integ, origin, level), { integration: integ.name, org, origin, level, operationId });
}
