import { type CoerceOptions, coerceValue } from "../core/coerce.js";
import { lockedKeys, schemaByKey } from "../core/config-schema.js";
import { DecryptError, ForbiddenError, ValidationError } from "../core/errors.js";
import { RESERVED_KEYS } from "../core/names.js";
import { type ConfigValue, type DisplayValue, type Integration, isSecretView } from "../core/types.js";
import type { SecretBox, SecretContext } from "../crypto/secret-box.js";
import type { Store, StoredConfigValue } from "../storage/store.js";
import { type Actor, ORG_ACTOR } from "./actor.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";

export interface ConfigChange {
  set: string[];
  unset: string[];
  unchanged: string[];
}

export const emptyChange = (): ConfigChange => ({ set: [], unset: [], unchanged: [] });

export function secretContext(value: Pick<StoredConfigValue, "orgId" | "id" | "key">): SecretContext {
  return { tenant: value.orgId ?? "_", table: "config_values", row: value.id, field: value.key };
}

/** A value a UI or export shows for a secret; writing it back must keep the stored secret. */
function isMaskedEcho(raw: unknown, existing: StoredConfigValue | undefined): boolean {
  if (isSecretView(raw)) return true;
  if (typeof raw !== "string") return false;
  if (/^[\u2022*]+$/.test(raw)) return true;
  return existing?.fingerprint != null && raw === existing.fingerprint;
}

/** Stored value → what the API, CLI and export show. Secrets become `{ set, fingerprint }`. */
export function displayValue(v: StoredConfigValue): DisplayValue {
  if (v.isSecret) return { set: true, fingerprint: v.fingerprint ?? "" };
  return JSON.parse(v.value) as ConfigValue;
}

export function displayValues(values: readonly StoredConfigValue[]): Record<string, DisplayValue> {
  const out: Record<string, DisplayValue> = Object.create(null) as Record<string, DisplayValue>;
  for (const v of values) out[v.key] = displayValue(v);
  return out;
}

/** Check that `values` is a plain object whose keys are all in the schema; names every offender. */
export function checkValueKeys(integration: Integration, values: unknown, where: string): Record<string, unknown> {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new ValidationError(`${where} must be an object of key: value pairs.`, { path: where });
  }
  const keys = Object.keys(values);
  const reserved = keys.filter((k) => RESERVED_KEYS.has(k));
  if (reserved.length > 0) {
    throw new ValidationError(`${where} uses reserved key(s) ${reserved.map((k) => `"${k}"`).join(", ")}; nothing was stored.`, { path: where, keys: reserved });
  }
  const schema = schemaByKey(integration.configSchema);
  const unknown = keys.filter((k) => !schema.has(k));
  if (unknown.length > 0) {
    const known = [...schema.keys()];
    throw new ValidationError(
      `${where}: unknown config key(s) ${unknown.map((k) => `"${k}"`).join(", ")} for integration "${integration.name}". ` +
        `Known keys: ${known.length ? known.join(", ") : "(none: add them to the config schema first)"}. Nothing was stored.`,
      { path: where, unknown, known },
    );
  }
  return values as Record<string, unknown>;
}

/**
 * Per-org values of `org_override: false` keys are written (set, changed, deleted, even echoed) by
 * platform actors only: answering "unchanged" to an org admin would confirm a guess of the value a
 * platform admin set. Checked before any value is validated or compared.
 */
export function checkLockedKeys(integration: Integration, orgId: string | null, keys: readonly string[], actor: Actor): void {
  if (orgId === null || actor.platform) return;
  const locked = lockedKeys(integration.configSchema);
  const hit = keys.filter((k) => locked.has(k));
  if (hit.length === 0) return;
  throw new ForbiddenError(
    `Only a platform admin may set per-organization values of ${hit.map((k) => `"${k}"`).join(", ")} for integration "${integration.name}": the schema marks ${hit.length === 1 ? "it" : "them"} org_override: false. Nothing was stored; ask a platform admin to set ${hit.length === 1 ? "it" : "them"} (\`bifrost config set ${integration.name} KEY=VALUE --org SLUG\`).`,
    { reason: "org_override_false", integration: integration.name, keys: hit },
  );
}

interface PlannedWrite {
  key: string;
  kind: "set" | "unset" | "unchanged";
  row?: StoredConfigValue;
}

/**
 * Is `plaintext` what is stored? A stored value that no longer decrypts (tampered, swapped, wrong key)
 * counts as different, so writing a new value is how it gets repaired.
 */
function sameSecret(box: SecretBox, current: StoredConfigValue, plaintext: string): boolean {
  try {
    return box.decrypt(current.value, secretContext(current)) === plaintext;
  } catch (err) {
    if (err instanceof DecryptError) return false;
    throw err;
  }
}

/**
 * Validate and coerce every value first (nothing is written if one fails), then return the rows to write.
 * `null` deletes; a masked echo of a secret keeps it.
 */
function planWrites(
  deps: Deps,
  integration: Integration,
  orgId: string | null,
  values: Record<string, unknown>,
  existing: ReadonlyMap<string, StoredConfigValue>,
  opts: CoerceOptions,
): PlannedWrite[] {
  const schema = schemaByKey(integration.configSchema);
  const now = deps.clock.now();
  return Object.entries(values).map(([key, raw]): PlannedWrite => {
    const item = schema.get(key)!;
    const current = existing.get(key);
    if (raw === null) return { key, kind: current ? "unset" : "unchanged" };
    if (item.type === "secret") {
      if (isMaskedEcho(raw, current)) {
        if (!current) {
          throw new ValidationError(
            `Config key "${key}" was given a masked value but no secret is stored for it; provide the real value (for example from an environment variable).`,
            { key },
          );
        }
        return { key, kind: "unchanged" };
      }
      const plaintext = coerceValue(item, raw, opts) as string;
      if (current?.isSecret && sameSecret(deps.box, current, plaintext)) return { key, kind: "unchanged" };
      const id = current?.id ?? deps.clock.id();
      const ctx = secretContext({ id, orgId, key });
      const row: StoredConfigValue = {
        id,
        integrationId: integration.id,
        orgId,
        key,
        value: deps.box.encrypt(plaintext, ctx),
        isSecret: true,
        fingerprint: deps.box.fingerprint(plaintext, ctx),
        updatedAt: now,
      };
      return { key, kind: "set", row };
    }
    const text = JSON.stringify(coerceValue(item, raw, opts));
    if (current && !current.isSecret && current.value === text) return { key, kind: "unchanged" };
    const row: StoredConfigValue = {
      id: current?.id ?? deps.clock.id(),
      integrationId: integration.id,
      orgId,
      key,
      value: text,
      isSecret: false,
      fingerprint: null,
      updatedAt: now,
    };
    return { key, kind: "set", row };
  });
}

/**
 * Write defaults (orgId null) or one org's overrides. All-or-nothing: validation happens before any write,
 * and the writes share one transaction (the caller's). Each value is one upsert, so a writer racing
 * another on the same key never fails on a unique constraint.
 */
export async function writeConfigValues(
  deps: Deps & { store: Store },
  integration: Integration,
  orgId: string | null,
  rawValues: unknown,
  where: string,
  opts: CoerceOptions = {},
  actor: Actor = ORG_ACTOR,
): Promise<ConfigChange> {
  const values = checkValueKeys(integration, rawValues, where);
  checkLockedKeys(integration, orgId, Object.keys(values), actor);
  const existingRows = await deps.store.listConfigValues(integration.id, orgId);
  const existing = new Map(existingRows.map((v) => [v.key, v]));
  const plan = planWrites(deps, integration, orgId, values, existing, opts);
  const change = emptyChange();
  for (const p of plan) change[p.kind].push(p.key);
  // One lock order for every writer: rows are written (set or deleted) in key order, so two
  // concurrent writes of the same keys wait for each other instead of deadlocking.
  for (const p of [...plan].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (p.kind === "set" && p.row) await deps.store.upsertConfigValue(p.row);
    if (p.kind === "unset") await deps.store.deleteConfigValues(integration.id, orgId, [p.key]);
  }
  await auditConfigWrite(deps, integration, orgId, plan);
  return change;
}

/** One `config.write` entry for the plain keys and one `secret.write` for the secret keys that changed (names only). */
async function auditConfigWrite(deps: Deps & { store: Store }, integration: Integration, orgId: string | null, plan: readonly PlannedWrite[]): Promise<void> {
  const schema = schemaByKey(integration.configSchema);
  const changed = plan.filter((p) => p.kind !== "unchanged");
  const target = { integration: { id: integration.id, name: integration.name }, org: orgId === null ? null : { id: orgId } };
  for (const [action, secret] of [["config.write", false], ["secret.write", true]] as const) {
    const mine = changed.filter((p) => (schema.get(p.key)?.type === "secret") === secret);
    if (mine.length === 0) continue;
    const set = mine.filter((p) => p.kind === "set").map((p) => p.key);
    const unset = mine.filter((p) => p.kind === "unset").map((p) => p.key);
    await recordAudit(deps, action, { ...target, keys: mine.map((p) => p.key), detail: { level: orgId === null ? "default" : "override", set, unset } });
  }
}

/** Decrypt a stored value for in-process comparison (apply) or workflow execution. */
export function plainValue(box: SecretBox, v: StoredConfigValue): ConfigValue {
  return v.isSecret ? box.decrypt(v.value, secretContext(v)) : (JSON.parse(v.value) as ConfigValue);
}
