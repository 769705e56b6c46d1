/**
 * `bifrost apply FILE`: upsert organizations, integrations (schema, defaults) and mappings from a
 * bifrost.yaml / JSON file. The whole file is validated first, then applied in ONE transaction;
 * a failure anywhere leaves the store unchanged. `dryRun` runs the same code and rolls back.
 */
import { readFile } from "node:fs/promises";
import { coerceValue } from "../core/coerce.js";
import { schemaByKey, toWireSchema } from "../core/config-schema.js";
import { ApplyFileError, BifrostError, ValidationError } from "../core/errors.js";
import { RESERVED_KEYS } from "../core/names.js";
import { type ConfigSchemaItem, isSecretView } from "../core/types.js";
import type { Store } from "../storage/store.js";
import { OAuthConfigError } from "../oauth/errors.js";
import { parseProviderConfig } from "../oauth/provider-config.js";
import { providerView } from "../oauth/provider-settings.js";
import { getOAuthProvider, removeOAuthProvider, setOAuthProvider } from "../oauth/service.js";
import { providerSecretContext } from "../oauth/tokens.js";
import { ErrorCollector, type FileIntegration, formatPath, oauthErrorAt, type ParsedApplyFile, type PathSegment, parseApplyFile } from "./apply-file.js";
import type { ConfigChange } from "./config-values.js";
import type { Deps } from "../kernel/deps.js";
import { createIntegration, updateIntegration } from "./integrations.js";
import { requireIntegration } from "../kernel/lookup.js";
import { PLATFORM_ACTOR } from "./actor.js";
import { setMapping } from "./mappings.js";
import { createOrg, updateOrg } from "./organizations.js";

export type ApplyAction = "created" | "updated" | "unchanged";

export interface ApplyChange {
  kind: "organization" | "integration" | "oauth_provider" | "mapping";
  /** `acme`, `HaloPSA` (integration and its oauth_provider), or `HaloPSA/acme` for a mapping. */
  name: string;
  action: ApplyAction;
  /** Changed fields (name, description, config_schema, entity_id, entity_name; for oauth_provider the block's fields, "client_secret", or "removed"). */
  fields: string[];
  /** Config keys written (defaults for an integration, overrides for a mapping). */
  keysSet: string[];
  /** Config keys deleted (`null` in the file). */
  keysUnset: string[];
  /** Stored values deleted by a forced schema change. */
  deletedValues?: number;
  /** Where the object is in the file. */
  path: string;
  line: number | null;
}

export interface ApplyReport {
  file: string;
  dryRun: boolean;
  /** False when every object was unchanged. */
  changed: boolean;
  summary: { created: number; updated: number; unchanged: number };
  changes: ApplyChange[];
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** Allow schema changes that delete stored values. */
  force?: boolean;
  /** Environment for `${VAR}` substitution (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Thrown to roll back a dry run; carries the report out of the transaction. Never escapes this module. */
class DryRunRollback extends Error {
  constructor(readonly report: ApplyReport) {
    super("dry run rollback");
  }
}

/** Read and apply a file. */
export async function applyFile(deps: Deps, file: string, opts: ApplyOptions = {}): Promise<ApplyReport> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ApplyFileError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}.`, { file, path: "", line: null });
  }
  return applyText(deps, text, file, opts);
}

/** Apply file contents (`file` is used in messages only). */
export async function applyText(deps: Deps, text: string, file: string, opts: ApplyOptions = {}): Promise<ApplyReport> {
  const parsed = parseApplyFile(text, file, opts.env ?? process.env);
  return applyParsed(deps, parsed, opts);
}

export async function applyParsed(deps: Deps, parsed: ParsedApplyFile, opts: ApplyOptions = {}): Promise<ApplyReport> {
  const dryRun = opts.dryRun === true;
  try {
    return await deps.store.transaction(async (tx) => {
      const txDeps: Deps = { store: tx, box: deps.box, clock: deps.clock };
      await validateAgainstStore(tx, parsed);
      const changes = await applyAll(txDeps, parsed, opts.force === true);
      const report = makeReport(parsed.file, dryRun, changes);
      if (dryRun) throw new DryRunRollback(report);
      return report;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.report;
    throw err;
  }
}

function makeReport(file: string, dryRun: boolean, changes: ApplyChange[]): ApplyReport {
  const summary = { created: 0, updated: 0, unchanged: 0 };
  for (const c of changes) summary[c.action]++;
  return { file, dryRun, changed: summary.created + summary.updated > 0, summary, changes };
}

/**
 * Checks that need the store: referenced orgs exist (in the file or the store), config keys and
 * values fit the schema the integration will have, masked secrets have a stored value to keep.
 */
async function validateAgainstStore(store: Store, f: ParsedApplyFile): Promise<void> {
  // Every problem is reported at once (with its line), not only the first.
  const found = new ErrorCollector();
  const fileOrgs = new Set(f.organizations.map((o) => o.slug));
  const storedOrgs = new Map((await store.listOrgs()).map((o) => [o.slug, o]));
  for (const integ of f.integrations) {
    const existing = await store.getIntegrationByName(integ.name);
    const schema = integ.configSchema ?? existing?.configSchema ?? [];
    const stored = existing ? await store.listConfigValues(existing.id) : [];
    const hasStored = (orgId: string | null, key: string) => stored.some((v) => v.orgId === orgId && v.key === key && v.isSecret);
    if (integ.defaults) {
      checkValues(f, found, [...integ.path, "defaults"], integ.name, schema, integ.defaults, (key) => existing !== null && hasStored(null, key));
    }
    for (const m of integ.mappings) {
      const org = storedOrgs.get(m.org);
      if (!org && !fileOrgs.has(m.org)) {
        const known = [...new Set([...fileOrgs, ...storedOrgs.keys()])].sort();
        found.errors.push(f.error([...m.path, "org"], `organization "${m.org}" does not exist in this file or the store. Add it under "organizations:"${known.length ? ` (known: ${known.join(", ")})` : ""}.`, {
          org: m.org,
        }));
        continue;
      }
      if (m.config) {
        checkValues(f, found, [...m.path, "config"], integ.name, schema, m.config, (key) => existing !== null && org !== undefined && hasStored(org.id, key));
      }
    }
  }
  found.throwIfAny(f.file);
}

/** Records (in `found`) every key of `values` that does not fit the schema. */
function checkValues(
  f: ParsedApplyFile,
  found: ErrorCollector,
  path: PathSegment[],
  integration: string,
  schema: readonly ConfigSchemaItem[],
  values: Record<string, unknown>,
  secretStored: (key: string) => boolean,
): void {
  const items = schemaByKey(schema);
  const keys = Object.keys(values);
  const reserved = keys.filter((k) => RESERVED_KEYS.has(k));
  if (reserved.length > 0) found.errors.push(f.error([...path, reserved[0] as string], `reserved key(s) ${reserved.join(", ")} cannot be used.`, { keys: reserved }, { key: true }));
  const unknown = keys.filter((k) => !items.has(k));
  if (unknown.length > 0) {
    const known = [...items.keys()];
    found.errors.push(f.error(
      [...path, unknown[0] as string],
      `unknown config key(s) ${unknown.map((k) => `"${k}"`).join(", ")} for integration "${integration}". Known keys: ${known.length ? known.join(", ") : "(none: add them to config_schema)"}.`,
      { unknown, known },
      { key: true },
    ));
  }
  for (const key of keys) {
    const raw = values[key];
    const item = items.get(key);
    if (raw === null || item === undefined || RESERVED_KEYS.has(key)) continue;
    if (item.type === "secret" && isSecretView(raw)) {
      if (!secretStored(key)) {
        found.errors.push(f.error(
          [...path, key],
          `is a masked secret ({ set: true, fingerprint }) but no secret is stored for "${key}" here, so there is nothing to keep. Provide the real value, for example "\${ENV_VAR}".`,
          { key },
        ));
      }
      continue;
    }
    try {
      coerceValue(item, raw);
    } catch (err) {
      if (err instanceof BifrostError) found.errors.push(f.error([...path, key], err.message, { cause: err.code, ...(err.details ?? {}) }));
      else throw err;
    }
  }
}

/** Add the file, path and line of the object being applied to a service error. */
function located(f: ParsedApplyFile, path: PathSegment[], err: unknown): unknown {
  if (!(err instanceof BifrostError) || err instanceof ApplyFileError || err.details?.file !== undefined) return err;
  const detailKey = typeof err.details?.key === "string" ? err.details.key : undefined;
  if (err instanceof ValidationError) {
    const at = detailKey !== undefined && (path.at(-1) === "defaults" || path.at(-1) === "config") ? [...path, detailKey] : path;
    return f.error(at, err.message, { ...(err.details ?? {}), cause: err.code });
  }
  const line = f.lineOf(path) ?? null;
  const p = formatPath(path);
  return new BifrostError(err.code, err.statusCode, `${f.file}${line ? `:${line}` : ""}: ${p}: ${err.message}`, { ...(err.details ?? {}), file: f.file, path: p, line });
}


async function at<T>(f: ParsedApplyFile, path: PathSegment[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw located(f, path, err);
  }
}

function change(f: ParsedApplyFile, kind: ApplyChange["kind"], name: string, path: PathSegment[], action: ApplyAction, fields: string[], cfg?: ConfigChange): ApplyChange {
  return {
    kind,
    name,
    action,
    fields,
    keysSet: cfg?.set ?? [],
    keysUnset: cfg?.unset ?? [],
    path: formatPath(path),
    line: f.lineOf(path) ?? null,
  };
}

async function applyAll(deps: Deps, f: ParsedApplyFile, force: boolean): Promise<ApplyChange[]> {
  const changes: ApplyChange[] = [];
  for (const o of f.organizations) {
    await at(f, o.path, async () => {
      const existing = await deps.store.getOrgBySlug(o.slug);
      if (!existing) {
        await createOrg(deps, { slug: o.slug, ...(o.name === undefined ? {} : { name: o.name }) });
        changes.push(change(f, "organization", o.slug, o.path, "created", []));
      } else if (o.name !== undefined && o.name.trim() !== existing.name) {
        await updateOrg(deps, o.slug, { name: o.name });
        changes.push(change(f, "organization", o.slug, o.path, "updated", ["name"]));
      } else {
        changes.push(change(f, "organization", o.slug, o.path, "unchanged", []));
      }
    });
  }
  for (const integ of f.integrations) {
    await at(f, integ.path, async () => {
      const existing = await deps.store.getIntegrationByName(integ.name);
      if (!existing) {
        const defaults = integ.defaults ?? {};
        await at(f, [...integ.path, "defaults"], () =>
          createIntegration(deps, {
            name: integ.name,
            description: integ.description ?? null,
            configSchema: toWireSchema(integ.configSchema ?? []),
            defaults,
            ...(integ.trustedOrigins === undefined ? {} : { trustedOrigins: integ.trustedOrigins }),
            ...(integ.privateNetwork === undefined ? {} : { privateNetwork: integ.privateNetwork }),
          }),
        );
        const set = Object.keys(defaults).filter((k) => defaults[k] !== null);
        changes.push(change(f, "integration", integ.name, integ.path, "created", [], { set, unset: [], unchanged: [] }));
        return;
      }
      const fields: string[] = [];
      if (integ.description !== undefined && integ.description !== existing.description) fields.push("description");
      if (integ.trustedOrigins !== undefined && JSON.stringify(integ.trustedOrigins) !== JSON.stringify(existing.trustedOrigins)) fields.push("trusted_origins");
      if (integ.privateNetwork !== undefined && integ.privateNetwork !== existing.privateNetwork) fields.push("private_network");
      const res = await at(f, integ.configSchema !== undefined ? [...integ.path, "config_schema"] : integ.path, () =>
        updateIntegration(deps, integ.name, {
          ...(integ.description === undefined ? {} : { description: integ.description }),
          ...(integ.configSchema === undefined ? {} : { configSchema: toWireSchema(integ.configSchema) }),
          ...(integ.trustedOrigins === undefined ? {} : { trustedOrigins: integ.trustedOrigins }),
          ...(integ.privateNetwork === undefined ? {} : { privateNetwork: integ.privateNetwork }),
          ...(integ.defaults === undefined ? {} : { defaults: integ.defaults }),
          force,
        }),
      );
      if (res.schemaChanged) fields.push("config_schema");
      const c = change(f, "integration", integ.name, integ.path, res.changed ? "updated" : "unchanged", fields, res.defaults);
      if (res.deletedValues > 0) c.deletedValues = res.deletedValues;
      changes.push(c);
    });
    if (integ.oauth !== undefined) {
      const oc = await at(f, [...integ.path, "oauth"], () => applyOAuth(deps, f, integ));
      if (oc) changes.push(oc);
    }
    for (const m of integ.mappings) {
      await at(f, m.path, async () => {
        const integration = await deps.store.getIntegrationByName(integ.name);
        const org = await deps.store.getOrgBySlug(m.org);
        const before = integration && org ? await deps.store.getMapping(integration.id, org.id) : null;
        const res = await at(f, m.config ? [...m.path, "config"] : m.path, () =>
          setMapping(deps, integ.name, m.org, {
            ...(m.entityId === undefined ? {} : { entityId: m.entityId }),
            ...(m.entityName === undefined ? {} : { entityName: m.entityName }),
            ...(m.config === undefined ? {} : { config: m.config }),
          }, PLATFORM_ACTOR),
        );
        const fields: string[] = [];
        if (before && res.mapping.entityId !== before.entityId) fields.push("entity_id");
        if (before && res.mapping.entityName !== before.entityName) fields.push("entity_name");
        const action: ApplyAction = res.created ? "created" : res.changed ? "updated" : "unchanged";
        changes.push(change(f, "mapping", `${integ.name}/${m.org}`, m.path, action, fields, res.config));
      });
    }
  }
  return changes;
}

/** Canonical JSON (sorted keys) for comparing provider views. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The integration's `oauth:` block: compare the parsed block with the stored provider (the client
 * secret by fingerprint of its plaintext; a masked echo keeps it) and write only when different.
 * `oauth: null` detaches the provider (its tokens are deleted).
 */
async function applyOAuth(deps: Deps, f: ParsedApplyFile, integ: FileIntegration): Promise<ApplyChange | null> {
  const path: PathSegment[] = [...integ.path, "oauth"];
  const existing = await getOAuthProvider(deps, integ.name);
  if (integ.oauth === null) {
    if (!existing) return null;
    await removeOAuthProvider(deps, integ.name);
    return change(f, "oauth_provider", integ.name, path, "updated", ["removed"]);
  }
  const block = integ.oauth as Record<string, unknown>;
  let parsed;
  try {
    parsed = parseProviderConfig(block, existing?.client_secret.fingerprint ?? null);
  } catch (err) {
    if (err instanceof OAuthConfigError) {
      const loc = oauthErrorAt(err, path);
      throw f.error(loc.path, loc.message, { cause: err.code });
    }
    throw err;
  }
  // Fingerprints are bound to the provider row: compute the file's secret as it would be stored in that row
  // (the row is read only when there is a stored provider and the file gives a secret to compare).
  const row = existing && parsed.clientSecret !== null ? await deps.store.getOAuthProvider((await requireIntegration(deps.store, integ.name)).id) : null;
  const fingerprint = parsed.clientSecret === null ? (existing?.client_secret.fingerprint ?? "") : row ? deps.box.fingerprint(parsed.clientSecret, providerSecretContext(row.id)) : "";
  const wanted = providerView(parsed.settings, fingerprint);
  if (existing && canonical(existing) === canonical(wanted)) return change(f, "oauth_provider", integ.name, path, "unchanged", []);
  const fields = existing
    ? [...new Set([...Object.keys(existing), ...Object.keys(wanted)])]
        .filter((k) => canonical((existing as unknown as Record<string, unknown>)[k]) !== canonical((wanted as unknown as Record<string, unknown>)[k]))
        .sort()
    : [];
  await setOAuthProvider(deps, integ.name, block);
  return change(f, "oauth_provider", integ.name, path, existing ? "updated" : "created", fields);
}
