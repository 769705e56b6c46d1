import { ValidationError } from "./errors.js";

/** Config keys: identifiers, never prototype names. */
const CONFIG_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
/** Integration names: used in code (`integrations.get("HaloPSA")`), URLs and file names. */
export const INTEGRATION_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** Organization slugs: lowercase, URL-safe. */
export const ORG_SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkConfigKey(key: string, where = "config key"): void {
  if (RESERVED_KEYS.has(key)) {
    throw new ValidationError(`${where} "${key}" is reserved; choose another name.`, { key });
  }
  if (!CONFIG_KEY_PATTERN.test(key)) {
    throw new ValidationError(
      `${where} ${JSON.stringify(key)} is invalid: use letters, digits and underscores, not starting with a digit (pattern ${CONFIG_KEY_PATTERN.source}).`,
      { key },
    );
  }
}

export function checkIntegrationName(name: unknown): string {
  if (typeof name !== "string" || !INTEGRATION_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `Integration name ${JSON.stringify(name)} is invalid: start with a letter, then up to 63 letters, digits, '_', '-' or '.' (no spaces or path characters).`,
      { name },
    );
  }
  return name;
}

export function checkOrgSlug(slug: unknown): string {
  if (typeof slug !== "string" || !ORG_SLUG_PATTERN.test(slug)) {
    throw new ValidationError(
      `Organization slug ${JSON.stringify(slug)} is invalid: use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit.`,
      { slug },
    );
  }
  return slug;
}
