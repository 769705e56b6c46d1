import { ValidationError } from "../core/errors.js";
import type { ConfigValue, SecretView } from "../core/types.js";
import type { CredentialLevel } from "../kernel/types.js";

/**
 * Read-only view of an integration's merged config (defaults + org overrides), typed values.
 * `get()` returns plaintext secrets; `toJSON()` masks them so logging or returning the config
 * never leaks a secret.
 */
export class IntegrationConfig {
  readonly #values: ReadonlyMap<string, ConfigValue>;
  readonly #schemaKeys: ReadonlySet<string>;
  readonly #secrets: ReadonlyMap<string, string>;
  readonly #integration: string;
  readonly #levels: ReadonlyMap<string, CredentialLevel> | null;

  /** `levels`: which values the organization set itself; without it every value counts as an integration default. */
  constructor(
    integration: string,
    values: ReadonlyMap<string, ConfigValue>,
    schemaKeys: ReadonlySet<string>,
    secretFingerprints: ReadonlyMap<string, string>,
    levels: ReadonlyMap<string, CredentialLevel> | null = null,
  ) {
    this.#integration = integration;
    this.#levels = levels;
    this.#values = values;
    this.#schemaKeys = schemaKeys;
    this.#secrets = secretFingerprints;
  }

  /** The value of `key`, or undefined when it is optional and unset. Unknown keys throw (typo guard). */
  get<T extends ConfigValue = ConfigValue>(key: string): T | undefined {
    if (!this.#schemaKeys.has(key)) {
      throw new ValidationError(
        `Integration "${this.#integration}" has no config key "${key}". Known keys: ${[...this.#schemaKeys].join(", ") || "(none)"}.`,
        { integration: this.#integration, key },
      );
    }
    return this.#values.get(key) as T | undefined;
  }

  /**
   * Who set the value of `key`: `"integration"` (a default) or `"org"` (the organization's own
   * override); null when unset. A credential follows the level that set it (see docs/security.md).
   */
  levelOf(key: string): CredentialLevel | null {
    if (!this.#values.has(key)) return null;
    return this.#levels?.get(key) ?? "integration";
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  keys(): string[] {
    return [...this.#values.keys()];
  }

  get size(): number {
    return this.#values.size;
  }

  /** Plain object of the values with secrets masked as `{ set: true, fingerprint }`. */
  toJSON(): Record<string, ConfigValue | SecretView> {
    const out: Record<string, ConfigValue | SecretView> = {};
    for (const [k, v] of this.#values) {
      const fp = this.#secrets.get(k);
      out[k] = fp === undefined ? v : { set: true, fingerprint: fp };
    }
    return out;
  }

  /** Everything the constructor took, to rebuild the same config on the other side of a thread boundary. */
  static parts(c: IntegrationConfig): ConstructorParameters<typeof IntegrationConfig> {
    return [c.#integration, c.#values, c.#schemaKeys, c.#secrets, c.#levels];
  }

  /** Secret plaintexts handed out by this config (for redacting workflow errors and logs). */
  secretValues(): string[] {
    return [...this.#secrets.keys()].map((k) => this.#values.get(k) as string);
  }
}
