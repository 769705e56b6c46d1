/** docs/providers.md, rendered from the catalog (`npm run docs:providers`; a test keeps the file current). */
import { PROVIDERS } from "./providers.js";
import type { CatalogEntry } from "./types.js";

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s: string): string => `\`${s}\``;

function capture(e: CatalogEntry): string {
  const s = e.oauth?.entity_id_source;
  return s ? `${s.type} ${code(s.key)}` : "–";
}

/** One entry as markdown (also `bifrost catalog show ID`). */
export function providerSection(e: CatalogEntry): string {
  const lines: string[] = [`### ${e.name} (${code(e.id)})`, ""];
  lines.push(`- Category: ${e.category}; auth: ${e.auth.map(code).join(", ")}`);
  lines.push(`- API base URL: ${code(e.api_base_url)}`);
  lines.push(`- Test connection: ${code(`${e.test_request.method} ${e.test_request.path || "/"}`)}${e.test_request.body ? ` with body ${code(JSON.stringify(e.test_request.body))}` : ""}`);
  const o = e.oauth;
  if (o) {
    lines.push(`- OAuth flow: ${code(o.flow)}${o.token_auth_method ? `, client authentication ${code(o.token_auth_method)}` : ""}`);
    if (o.authorization_url) lines.push(`  - authorization URL: ${code(o.authorization_url)}`);
    lines.push(`  - token URL: ${code(o.token_url)}`);
    if (o.revocation_url) lines.push(`  - revocation URL: ${code(o.revocation_url)}`);
    if (o.scopes?.length) lines.push(`  - default scopes: ${o.scopes.map(code).join(" ")}`);
    if (o.audience) lines.push(`  - audience: ${code(o.audience)}`);
    for (const [label, p] of [["authorize parameters", o.authorize_params], ["token parameters", o.token_params]] as const) {
      if (p && Object.keys(p).length) lines.push(`  - ${label}: ${Object.entries(p).map(([k, v]) => code(`${k}=${v}`)).join(", ")}`);
    }
    if (o.url_defaults && Object.keys(o.url_defaults).length) {
      lines.push(`  - placeholders: ${Object.entries(o.url_defaults).map(([k, v]) => (v === "" ? `${code(`{${k}}`)} (required: ${code(`oauth.url_defaults.${k}`)})` : `${code(`{${k}}`)} = ${code(v)}`)).join(", ")}`);
    }
    if (o.entity_id_source) lines.push(`  - entity capture: ${capture(e)}`);
    if (o.quirks) lines.push(`  - token-response quirks: ${Object.entries(o.quirks).map(([k, v]) => code(`${k}: ${String(v)}`)).join(", ")}`);
  }
  if (e.config_schema.length) {
    lines.push(`- Config keys: ${e.config_schema.map((k) => `${code(k.key)} (${k.type}${k.required ? ", required" : ""}${k.options ? `: ${k.options.join(" / ")}` : ""})`).join(", ")}`);
  }
  if (e.defaults && Object.keys(e.defaults).length) lines.push(`- Defaults: ${Object.entries(e.defaults).map(([k, v]) => code(`${k}: ${v}`)).join(", ")}`);
  lines.push(`- Docs: ${e.docs_url}`);
  if (e.notes) lines.push(`- Notes: ${e.notes}`);
  return lines.join("\n");
}

export function renderProvidersDoc(entries: readonly CatalogEntry[] = PROVIDERS): string {
  const head = [
    "# Provider catalog",
    "",
    "<!-- Generated from src/catalog/providers.ts by `npm run docs:providers`; do not edit by hand. -->",
    "",
    `${entries.length} providers. Use one in an apply file with \`provider: ID\` beside \`oauth:\`; the entry fills the`,
    "OAuth provider settings (URLs, scopes, placeholders, quirks, entity capture), the config schema and defaults.",
    "Fields written in the yaml win; the client id and secret always come from the yaml (`${ENV}` references).",
    "`bifrost catalog list [--q TEXT]` and `bifrost catalog show ID` print the same data; see docs/cli.md.",
    "Facts come from each provider's public documentation; where something could not be confirmed or the",
    "product cannot do what the provider needs, the entry's notes say so.",
    "",
    "| id | name | category | auth | entity capture |",
    "|---|---|---|---|---|",
    ...entries.map((e) => `| ${code(e.id)} | ${cell(e.name)} | ${cell(e.category)} | ${e.auth.join(", ")} | ${capture(e)} |`),
    "",
    "## Entries",
    "",
  ];
  return `${head.join("\n")}${entries.map(providerSection).join("\n\n")}\n`;
}
