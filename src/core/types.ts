/** Domain types shared by storage, services, server, CLI and runtime. */

export const CONFIG_TYPES = ["string", "int", "bool", "json", "secret"] as const;
export type ConfigType = (typeof CONFIG_TYPES)[number];

/** A JSON value as stored for `json` config keys. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The typed value of one config key after coercion (secrets are plaintext strings in memory only). */
export type ConfigValue = string | number | boolean | JsonValue;

export interface ConfigSchemaItem {
  key: string;
  type: ConfigType;
  required: boolean;
  description?: string;
  /** Allowed values (string and int keys). */
  options?: Array<string | number>;
  /**
   * `org_override: false` in yaml and the API: only platform admins may write per-org values of this key.
   * Stored only when false (absent = true).
   */
  orgOverride?: boolean;
}

export interface Organization {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface Integration {
  id: string;
  name: string;
  description: string | null;
  configSchema: ConfigSchemaItem[];
  /** Origins integration-level credentials may be sent to besides the default base_url's and the spec's servers (platform only). */
  trustedOrigins: string[];
  /** Outbound calls may reach private ranges (on-premises servers); never link-local or metadata addresses. */
  privateNetwork: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Mapping {
  id: string;
  integrationId: string;
  orgId: string;
  entityId: string | null;
  entityName: string | null;
  createdAt: string;
  updatedAt: string;
}

/** How a secret is shown anywhere outside workflow execution. */
export interface SecretView {
  set: true;
  fingerprint: string;
}

/** A config value as shown by the management API, CLI and export: secrets masked. */
export type DisplayValue = ConfigValue | SecretView;

export function isSecretView(value: unknown): value is SecretView {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    (value as { set?: unknown }).set === true
  );
}

export type ApiKeyRole = "platform_admin" | "org_admin" | "workflow";
export const API_KEY_ROLES: readonly ApiKeyRole[] = ["platform_admin", "org_admin", "workflow"];
