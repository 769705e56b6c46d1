import type { IntegrationFetchImpl } from "../runtime/resolved.js";

let loaded: Promise<IntegrationFetchImpl> | null = null;

/**
 * `integration.fetch()` of the integrations the resolvers build: the client runtime's request path,
 * loaded on first use so processes that never call it do not load the client runtime.
 */
export const clientFetch: IntegrationFetchImpl = async (integ, pathOrUrl, init) => {
  loaded ??= import("../client/integration-fetch.js").then((m) => m.integrationFetch);
  return (await loaded)(integ, pathOrUrl, init);
};
