import { OAuthUrlRefusedError } from "./errors.js";

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;

/** A DNS label: letters, digits and inner hyphens, 1–63 characters. */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * Whether a placeholder value is safe. In the host a value must be one DNS label (no dots, so it
 * cannot add a domain); in the path it may be dot-separated DNS labels (tenant domains such as
 * contoso.onmicrosoft.com), never empty labels, "..", "/", "@", "#", "?", "%", ":" or spaces.
 */
function isSafeValue(value: string, inHost: boolean): boolean {
  if (value.length === 0 || value.length > 253) return false;
  if (inHost) return DNS_LABEL.test(value);
  return value.split(".").every((label) => DNS_LABEL.test(label));
}

export interface TemplateValues {
  /** From the mapping being connected or refreshed (may be null/empty). */
  entityId: string | null;
  defaults: Readonly<Record<string, string>>;
}

/**
 * Fill `{placeholder}`s: `entity_id` from the mapping, else url_defaults; other names from url_defaults.
 * Every value is validated so it cannot change the host, and the result must keep the template's host.
 */
export function expandUrl(template: string, values: TemplateValues, field = "url"): string {
  const names = placeholdersOf(template);
  if (names.length === 0) return template;
  const authorityEnd = (() => {
    const start = template.indexOf("//");
    const slash = template.indexOf("/", start + 2);
    return slash === -1 ? template.length : slash;
  })();
  let out = "";
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    const at = m.index;
    const fromMapping = name === "entity_id" && values.entityId ? values.entityId : undefined;
    const value = fromMapping ?? values.defaults[name];
    if (value === undefined || value === "") {
      throw new OAuthUrlRefusedError(
        `oauth.${field} needs a value for {${name}}: set the mapping's entity_id${name === "entity_id" ? "" : ""} or oauth.url_defaults.${name}.`,
        { field, placeholder: name },
      );
    }
    const inHost = at < authorityEnd;
    if (!isSafeValue(value, inHost)) {
      throw new OAuthUrlRefusedError(
        `The value for {${name}} in oauth.${field} is not a safe ${inHost ? "DNS label" : "DNS name"} (letters, digits, '-'${inHost ? "" : ", '.' between labels"}); refusing to build the URL.`,
        { field, placeholder: name },
      );
    }
    out += template.slice(last, at) + value;
    last = at + m[0].length;
  }
  out += template.slice(last);
  // Defence in depth: the substituted URL must parse and keep the scheme, and a placeholder outside the host cannot move it.
  let result: URL;
  let shape: URL;
  try {
    result = new URL(out);
    shape = new URL(template.replace(PLACEHOLDER, "x"));
  } catch {
    throw new OAuthUrlRefusedError(`oauth.${field} does not form a valid URL after filling its placeholders.`, { field });
  }
  const hostTemplated = names.length > 0 && template.slice(0, authorityEnd).includes("{");
  if (result.protocol !== shape.protocol || result.username || result.password || result.hash || (!hostTemplated && result.host !== shape.host)) {
    throw new OAuthUrlRefusedError(`oauth.${field}: a placeholder value changed the URL's scheme, host or fragment; refused.`, { field });
  }
  return out;
}
