/**
 * The one registry of encrypted columns: every column that holds a `v1.` ciphertext, with what its
 * AAD is built from (tenant, table, row, field; see crypto/secret-box.ts). Key rotation counts, rewraps
 * and checks exactly these; test/storage/ciphertext-registry.test.ts fails when a table gains an
 * encrypted column that is not listed here.
 */
import type { Database } from "./schema.js";

/** A column of `table`. */
type ColumnOf<T extends keyof Database> = Extract<keyof Database[T], string>;

interface ColumnSpec<T extends keyof Database> {
  table: T;
  /** The encrypted column. */
  column: ColumnOf<T>;
  /** The primary key: the AAD's row. */
  id: ColumnOf<T>;
  /** The column holding the organization id for the AAD's tenant (null value → "_"); absent = always "_". */
  tenant?: ColumnOf<T>;
  /** The AAD's field: another column's value (config key) or a fixed name. */
  field: { column: ColumnOf<T> } | { name: string };
  /** The column holding the value's keyed fingerprint (keyed from the active key): rewritten with the value. */
  fingerprint?: ColumnOf<T>;
  /** Only rows where this column equals this value hold ciphertexts (config values: secrets only). */
  only?: { column: ColumnOf<T>; equals: number };
  /**
   * Each row is encrypted with the key it stands for (keyring canaries prove that key): counted
   * apart and never rewrapped; `bifrost keyring retire` deletes it with the key.
   */
  perKey?: true;
}

export type CiphertextColumn = { [T in keyof Database]: ColumnSpec<T> }[keyof Database];

export const CIPHERTEXT_COLUMNS: readonly CiphertextColumn[] = [
  { table: "config_values", column: "value", id: "id", tenant: "org_id", field: { column: "key" }, fingerprint: "fingerprint", only: { column: "is_secret", equals: 1 } },
  { table: "oauth_providers", column: "client_secret", id: "id", field: { name: "client_secret" }, fingerprint: "client_secret_fingerprint" },
  { table: "oauth_tokens", column: "access_token", id: "id", tenant: "org_id", field: { name: "access_token" } },
  { table: "oauth_tokens", column: "refresh_token", id: "id", tenant: "org_id", field: { name: "refresh_token" } },
  { table: "oauth_states", column: "code_verifier", id: "state", tenant: "org_id", field: { name: "code_verifier" } },
  { table: "keyring_canaries", column: "value", id: "kid", field: { name: "value" }, perKey: true },
];

/** One stored ciphertext and what its AAD is built from. */
export interface CiphertextRow {
  id: string;
  value: string;
  /** Organization id, or null (integration level). */
  tenant: string | null;
  field: string;
}

/** A value re-encrypted under the active key, with its fingerprint recomputed (null: the column has none). */
export interface Rewrapped {
  value: string;
  fingerprint: string | null;
}

/** How many values of one column use one key id. */
export interface CiphertextCount {
  table: string;
  column: string;
  kid: string;
  count: number;
}

/** What one rewrap batch did. */
export interface RewrapBatch {
  /** Rows read (and, on PostgreSQL, locked) in this batch. */
  claimed: number;
  /** Rows now under the active key. */
  rewrapped: number;
  /** Rows another writer changed between the read and the update (their write won). */
  superseded: number;
  /** Rows `rewrap` could not re-encrypt (returned null). */
  failed: string[];
  /** The last id read: the next batch starts after it; null = the column is done. */
  last: string | null;
}
