/** Hash routes of the console (pure): `#/integrations/HaloPSA/mappings` → the page to show, and the links back. */

export const INTEGRATION_TABS = ["overview", "schema", "provider", "mappings"] as const;
export type IntegrationTab = (typeof INTEGRATION_TABS)[number];

export type Route =
  | { page: "integrations" }
  | { page: "integration"; name: string; tab: IntegrationTab }
  | { page: "orgs" }
  | { page: "org"; slug: string }
  | { page: "connections"; query: URLSearchParams }
  | { page: "connection"; integration: string; org: string | null }
  | { page: "events"; query: URLSearchParams }
  | { page: "audit"; query: URLSearchParams }
  | { page: "keys" };

/** The org segment of a per-connection route for the integration-level connection. */
const INTEGRATION_LEVEL = "-";

/** `#/integrations/HaloPSA` → the page to show (API keys only for platform admins; anything else → integrations). */
export function parseRoute(hash: string, platform: boolean): Route {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  let parts: string[];
  try {
    parts = (path ?? "").split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: "integrations" };
  }
  const [head, a, b] = parts;
  if (head === "integrations" && a) {
    const tab = INTEGRATION_TABS.find((t) => t === b);
    return b === undefined || tab ? { page: "integration", name: a, tab: tab ?? "overview" } : { page: "integrations" };
  }
  if (head === "orgs" && a) return { page: "org", slug: a };
  if (head === "orgs") return { page: "orgs" };
  if (head === "connections" && a && b) return { page: "connection", integration: a, org: b === INTEGRATION_LEVEL ? null : b };
  if (head === "connections" && !a) return { page: "connections", query: new URLSearchParams(query) };
  if (head === "events") return { page: "events", query: new URLSearchParams(query) };
  if (head === "audit") return { page: "audit", query: new URLSearchParams(query) };
  if (head === "keys" && platform) return { page: "keys" };
  return { page: "integrations" };
}

const enc = encodeURIComponent;

/** `#/integrations/NAME` for the overview, `#/integrations/NAME/TAB` for the others. */
export function integrationHref(name: string, tab: IntegrationTab = "overview"): string {
  return `#/integrations/${enc(name)}${tab === "overview" ? "" : `/${tab}`}`;
}

/** `#/connections/INTEGRATION/ORG`, `-` for the integration-level connection. */
export function connectionHref(integration: string, org: string | null): string {
  return `#/connections/${enc(integration)}/${org === null ? INTEGRATION_LEVEL : enc(org)}`;
}
