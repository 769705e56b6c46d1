import { resolveIntegration } from "./integrations.js";
import type { OAuthCredentials } from "../kernel/types.js";

let warned = false;

/**
 * Deprecated: `oauth.get(name)` returns the same credentials as `(await integrations.get(name)).oauth`.
 * Kept so old workflows run; warns once per process.
 */
export const oauth = {
  async get(name: string): Promise<OAuthCredentials | null> {
    if (!warned) {
      warned = true;
      process.emitWarning('oauth.get(name) is deprecated; use (await integrations.get(name)).oauth instead.', { type: "DeprecationWarning", code: "BIFROST_DEP_OAUTH_GET" });
    }
    const r = await resolveIntegration(name);
    return r?.oauth ?? null;
  },
};
