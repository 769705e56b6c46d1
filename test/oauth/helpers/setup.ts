import type { Bifrost } from "../../../src/host/bootstrap.js";
import { createIntegration } from "../../../src/services/integrations.js";
import { createOrg } from "../../../src/services/organizations.js";
import { type OAuthDeps } from "../../../src/oauth/service.js";
import { StoreResolver } from "../../../src/host/store-resolver.js";
import { createContext, runInContext } from "../../../src/runtime/context.js";
import { integrations } from "../../../src/runtime/integrations.js";
import type { ExecutionOrg } from "../../../src/kernel/types.js";
import type { ResolvedIntegration } from "../../../src/runtime/types.js";
import { PUBLIC_URL } from "./auth-server.js";

export const TEST_OAUTH = { publicUrl: PUBLIC_URL, allowHttpLoopback: true, timeoutMs: 1500, skewSeconds: 1, backoffBaseMs: 50, backoffMaxMs: 200 };

export function oauthDeps(bf: Bifrost, extra: OAuthDeps["oauth"] = {}): OAuthDeps {
  return { store: bf.store, box: bf.box, clock: bf.clock, oauth: { ...TEST_OAUTH, ...extra } };
}

export async function seed(bf: Bifrost, names: string[], orgs: string[]): Promise<void> {
  for (const name of names) await createIntegration(bf, { name });
  for (const slug of orgs) await createOrg(bf, { slug });
}

/** One `integrations.get()` in its own execution context (no per-execution cache shared). */
export async function getAs(resolver: StoreResolver, name: string, org: ExecutionOrg | null): Promise<ResolvedIntegration | null> {
  return runInContext(createContext({ org, caller: { kind: "cli", platform: true }, resolver }), () => integrations.get(name));
}

export function resolverFor(bf: Bifrost, extra: OAuthDeps["oauth"] = {}): StoreResolver {
  return new StoreResolver(bf.store, bf.box, { clock: bf.clock, oauth: { ...TEST_OAUTH, ...extra } });
}
