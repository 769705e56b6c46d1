/**
 * `bifrost import FILE`: open a sealed export (src/crypto/sealed-file.ts), check the payload, and write it into
 * this instance in ONE transaction, encrypting every secret and token under this instance's active key.
 *
 * Rows get new ids here, so every ciphertext's associated data (tenant, table, row, field) and every
 * fingerprint is computed for the target's rows, never copied. Conflict rule: the target must be empty
 * (no organizations, no integrations; API keys and keyring canaries may exist). Merging a second instance's
 * tenants and secrets into live data is where a token ends up with the wrong customer; to combine instances,
 * import into an empty one and use `bifrost apply` for the rest. The emptiness check runs again inside the
 * transaction, and unique constraints stop a concurrent writer: either everything is imported or nothing.
 */
import { z } from "zod";
import { coerceValue } from "../core/coerce.js";
import { parseConfigSchema, schemaByKey } from "../core/config-schema.js";
import { BifrostError, ConflictError, ImportFileError, ImportTargetNotEmptyError } from "../core/errors.js";
import { checkIntegrationName, checkOrgSlug } from "../core/names.js";
import { checkEntityId } from "../core/entity.js";
import type { ConfigSchemaItem, Integration } from "../core/types.js";
import { openWithPassphrase } from "../crypto/sealed-file.js";
import type { Deps } from "../kernel/deps.js";
import { ownerKey, providerSecretContext, tokenSecretContext } from "../oauth/tokens.js";
import type { Store, StoredOAuthToken } from "../storage/store.js";
import { secretContext } from "./config-values.js";
import { countPayload, type InstancePayload, type MoveCounts, PAYLOAD_FORMAT, PAYLOAD_VERSION } from "./instance-export.js";

const text = z.string();
const nullableText = z.string().nullable();
const stamp = z.string().min(1);
const json: z.ZodType<unknown> = z.unknown();

const payloadSchema = z
  .object({
    format: z.literal(PAYLOAD_FORMAT),
    version: z.literal(PAYLOAD_VERSION),
    source: z.object({ dialect: text }).strict(),
    organizations: z.array(z.object({ id: text, slug: text, name: text, created_at: stamp, updated_at: stamp }).strict()),
    integrations: z.array(
      z
        .object({
          id: text,
          name: text,
          description: nullableText,
          config_schema: z.array(json),
          trusted_origins: z.array(text),
          private_network: z.boolean(),
          created_at: stamp,
          updated_at: stamp,
          mappings: z.array(z.object({ id: text, org_id: text, entity_id: nullableText, entity_name: nullableText, created_at: stamp, updated_at: stamp }).strict()),
          values: z.array(z.object({ org_id: nullableText, key: text, secret: z.boolean(), value: json, updated_at: stamp }).strict()),
          oauth_provider: z
            .object({ flow: z.enum(["authorization_code", "client_credentials"]), settings: z.record(z.string(), json), client_secret: z.string().min(1), created_at: stamp, updated_at: stamp })
            .strict()
            .nullable(),
          oauth_tokens: z.array(
            z
              .object({
                org_id: nullableText,
                mapping_id: nullableText,
                state: z.enum(["not_connected", "connected", "refreshing", "needs_reauth", "error"]),
                access_token: nullableText,
                refresh_token: nullableText,
                token_type: nullableText,
                expires_at: nullableText,
                obtained_at: nullableText,
                scopes: z.array(text),
                extra: z.record(z.string(), json),
                last_refresh_at: nullableText,
                last_error: nullableText,
                created_at: stamp,
                updated_at: stamp,
              })
              .strict(),
          ),
        })
        .strict(),
    ),
  })
  .strict();

/** A problem in the payload, named by its path (never by a value: values may be secrets). */
function invalid(file: string, path: string, problem: string): ImportFileError {
  return new ImportFileError(`${file}: ${path}: ${problem}. Nothing was imported.`, { file, path });
}

/** Run a domain check (names, schema, values), turning its error into an ImportFileError at `path`. */
function checked<T>(file: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BifrostError) throw invalid(file, path, err.message.replace(/\.$/, ""));
    throw err;
  }
}

/** Parse the decrypted bytes into a payload whose references all resolve. */
function parsePayload(plaintext: Buffer, file: string): InstancePayload {
  let raw: unknown;
  try {
    raw = JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw invalid(file, "(payload)", "the decrypted content is not JSON");
  }
  if (typeof raw === "object" && raw !== null && (raw as { version?: unknown }).version !== PAYLOAD_VERSION && (raw as { format?: unknown }).format === PAYLOAD_FORMAT) {
    throw invalid(file, "version", `payload version ${String((raw as { version?: unknown }).version)} is not supported here (this Bifrost reads ${PAYLOAD_VERSION}); upgrade Bifrost`);
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(file, issue ? issue.path.join(".") || "(payload)" : "(payload)", issue ? issue.message : "invalid");
  }
  const p = parsed.data as InstancePayload;
  const orgIds = new Set<string>();
  const slugs = new Set<string>();
  p.organizations.forEach((o, i) => {
    checked(file, `organizations[${i}].slug`, () => checkOrgSlug(o.slug));
    if (orgIds.has(o.id) || slugs.has(o.slug)) throw invalid(file, `organizations[${i}]`, `organization "${o.slug}" appears twice`);
    orgIds.add(o.id);
    slugs.add(o.slug);
  });
  const names = new Set<string>();
  p.integrations.forEach((integ, i) => {
    const at = `integrations[${i}]`;
    checked(file, `${at}.name`, () => checkIntegrationName(integ.name));
    if (names.has(integ.name.toLowerCase())) throw invalid(file, `${at}.name`, `integration "${integ.name}" appears twice`);
    names.add(integ.name.toLowerCase());
    const schema = schemaByKey(checked(file, `${at}.config_schema`, () => parseConfigSchema(integ.config_schema, `${at}.config_schema`)));
    const mappedOrgs = new Map<string, string>();
    integ.mappings.forEach((m, j) => {
      if (!orgIds.has(m.org_id)) throw invalid(file, `${at}.mappings[${j}].org_id`, "names no organization of the file");
      if ([...mappedOrgs.values()].includes(m.org_id)) throw invalid(file, `${at}.mappings[${j}]`, "a second mapping for the same organization");
      checked(file, `${at}.mappings[${j}].entity_id`, () => checkEntityId(m.entity_id));
      mappedOrgs.set(m.id, m.org_id);
    });
    const orgsWithMapping = new Set(mappedOrgs.values());
    const seenValues = new Set<string>();
    integ.values.forEach((v, j) => {
      const vat = `${at}.values[${j}]`;
      const item = schema.get(v.key);
      if (!item) throw invalid(file, `${vat}.key`, `"${v.key}" is not in the integration's config schema`);
      if ((item.type === "secret") !== v.secret) throw invalid(file, `${vat}.secret`, `does not match the schema type of "${v.key}"`);
      if (v.org_id !== null && !orgsWithMapping.has(v.org_id)) throw invalid(file, `${vat}.org_id`, "an override of an organization without a mapping of this integration");
      const k = `${v.org_id ?? ""}\u0000${v.key}`;
      if (seenValues.has(k)) throw invalid(file, vat, `"${v.key}" is given twice for the same level`);
      seenValues.add(k);
      v.value = checked(file, `${vat}.value`, () => coerceValue(item, v.value));
    });
    if (integ.oauth_provider && integ.oauth_provider.settings.flow !== integ.oauth_provider.flow) {
      throw invalid(file, `${at}.oauth_provider.settings.flow`, "differs from the provider's flow");
    }
    if (integ.oauth_tokens.length > 0 && !integ.oauth_provider) throw invalid(file, `${at}.oauth_tokens`, "tokens without an OAuth provider");
    const owners = new Set<string>();
    integ.oauth_tokens.forEach((t, j) => {
      const tat = `${at}.oauth_tokens[${j}]`;
      if (t.org_id !== null && !orgIds.has(t.org_id)) throw invalid(file, `${tat}.org_id`, "names no organization of the file");
      if (t.mapping_id !== null && mappedOrgs.get(t.mapping_id) !== t.org_id) throw invalid(file, `${tat}.mapping_id`, "names no mapping of this integration for the token's organization");
      const owner = t.mapping_id ? `m:${t.mapping_id}` : t.org_id ? `o:${t.org_id}` : "i";
      if (owners.has(owner)) throw invalid(file, tat, "a second token for the same owner");
      owners.add(owner);
    });
  });
  return p;
}

/** How many organizations and integrations the instance already holds (import needs both at zero). */
async function occupancy(store: Store): Promise<{ organizations: number; integrations: number }> {
  return { organizations: (await store.listOrgs()).length, integrations: (await store.listIntegrations()).length };
}

function refuseNonEmpty(found: { organizations: number; integrations: number }): void {
  if (found.organizations === 0 && found.integrations === 0) return;
  throw new ImportTargetNotEmptyError(
    `This instance already holds ${found.organizations} organization(s) and ${found.integrations} integration(s); \`bifrost import\` only fills an empty instance, so nothing was imported. ` +
      `Import into a fresh database (new BIFROST_HOME or DATABASE_URL, with this instance's keyring), or move single integrations with \`bifrost export\` / \`bifrost apply\` and \${ENV_VAR} secrets.`,
    found,
  );
}

/** Tokens mid-refresh in the source are imported as settled: the refresh marker and claims belong to the source's processes. */
function settledState(t: InstancePayload["integrations"][number]["oauth_tokens"][number]): StoredOAuthToken["state"] {
  if (t.state !== "refreshing") return t.state;
  return t.access_token ? "connected" : "error";
}

/** Write a checked payload into `tx` (an empty instance), new ids, target keyring. */
async function writePayload(deps: Deps, tx: Store, p: InstancePayload): Promise<void> {
  const { box, clock } = deps;
  const orgId = new Map<string, string>();
  for (const o of p.organizations) {
    const id = clock.id();
    orgId.set(o.id, id);
    await tx.insertOrg({ id, slug: o.slug, name: o.name, createdAt: o.created_at, updatedAt: o.updated_at });
  }
  const org = (sourceId: string): string => orgId.get(sourceId) as string;
  for (const src of p.integrations) {
    const schema: ConfigSchemaItem[] = parseConfigSchema(src.config_schema);
    const integration: Integration = {
      id: clock.id(),
      name: src.name,
      description: src.description,
      configSchema: schema,
      trustedOrigins: [...src.trusted_origins],
      privateNetwork: src.private_network,
      createdAt: src.created_at,
      updatedAt: src.updated_at,
    };
    await tx.insertIntegration(integration);
    const mappingId = new Map<string, string>();
    for (const m of src.mappings) {
      const id = clock.id();
      mappingId.set(m.id, id);
      await tx.insertMapping({ id, integrationId: integration.id, orgId: org(m.org_id), entityId: m.entity_id, entityName: m.entity_name, createdAt: m.created_at, updatedAt: m.updated_at });
    }
    for (const v of src.values) {
      const id = clock.id();
      const valueOrg = v.org_id === null ? null : org(v.org_id);
      if (v.secret) {
        const ctx = secretContext({ id, orgId: valueOrg, key: v.key });
        const plaintext = v.value as string;
        await tx.upsertConfigValue({ id, integrationId: integration.id, orgId: valueOrg, key: v.key, value: box.encrypt(plaintext, ctx), isSecret: true, fingerprint: box.fingerprint(plaintext, ctx), updatedAt: v.updated_at });
      } else {
        await tx.upsertConfigValue({ id, integrationId: integration.id, orgId: valueOrg, key: v.key, value: JSON.stringify(v.value), isSecret: false, fingerprint: null, updatedAt: v.updated_at });
      }
    }
    if (src.oauth_provider) {
      const pv = src.oauth_provider;
      const id = clock.id();
      const ctx = providerSecretContext(id);
      await tx.putOAuthProvider({
        id,
        integrationId: integration.id,
        flow: pv.flow,
        settings: JSON.stringify(pv.settings),
        clientSecret: box.encrypt(pv.client_secret, ctx),
        clientSecretFingerprint: box.fingerprint(pv.client_secret, ctx),
        createdAt: pv.created_at,
        updatedAt: pv.updated_at,
      });
    }
    for (const t of src.oauth_tokens) {
      const id = clock.id();
      const tOrg = t.org_id === null ? null : org(t.org_id);
      const tMapping = t.mapping_id === null ? null : (mappingId.get(t.mapping_id) as string);
      const row = { id, orgId: tOrg };
      const stored = await tx.insertOAuthTokenIfAbsent({
        id,
        integrationId: integration.id,
        orgId: tOrg,
        mappingId: tMapping,
        ownerKey: tMapping ? ownerKey.mapping(tMapping) : tOrg ? ownerKey.org(tOrg) : ownerKey.integration(),
        state: settledState(t),
        accessToken: t.access_token === null ? null : box.encrypt(t.access_token, tokenSecretContext(row, "access_token")),
        refreshToken: t.refresh_token === null ? null : box.encrypt(t.refresh_token, tokenSecretContext(row, "refresh_token")),
        tokenType: t.token_type,
        expiresAt: t.expires_at,
        obtainedAt: t.obtained_at,
        scopes: [...t.scopes],
        extra: t.extra,
        lastRefreshAt: t.last_refresh_at,
        lastError: t.last_error,
        // Backoff, claims and the in-flight marker describe the source's processes: the target starts clean.
        failureCount: 0,
        nextAttemptAt: null,
        claimedUntil: null,
        refreshStartedAt: null,
        refreshOwner: null,
        version: 0,
        createdAt: t.created_at,
        updatedAt: t.updated_at,
      });
      // The target was empty inside this transaction: another row here means a concurrent writer.
      if (stored.id !== id) throw new ImportTargetNotEmptyError(`An OAuth token for integration "${src.name}" appeared while importing; nothing was imported. Retry on an idle, empty instance.`);
    }
  }
}

export interface ImportReport extends MoveCounts {
  file: string;
  /** The active key id every secret was encrypted with. */
  kid: string;
  source_dialect: string;
  target_dialect: string;
}

/**
 * Decrypt `bytes` (the file `file`) with `passphrase` (from `source`, named in errors) and import it.
 * All checks (emptiness, passphrase, authentication, payload) happen before the one write transaction.
 */
export async function importWithSecrets(deps: Deps, bytes: Buffer, passphrase: string, names: { file: string; source: string }): Promise<ImportReport> {
  // Cheap refusal first (no key derivation on a non-empty target); checked again inside the transaction.
  refuseNonEmpty(await occupancy(deps.store));
  const plaintext = await openWithPassphrase(bytes, passphrase, names.file, names.source);
  let payload: InstancePayload;
  try {
    payload = parsePayload(plaintext, names.file);
  } finally {
    plaintext.fill(0);
  }
  try {
    await deps.store.transaction(async (tx) => {
      refuseNonEmpty(await occupancy(tx));
      await writePayload(deps, tx, payload);
    });
  } catch (err) {
    // A unique violation while another import or writer commits into the same instance: report it as what it is.
    if (err instanceof ConflictError) refuseNonEmpty(await occupancy(deps.store));
    throw err;
  }
  return { file: names.file, kid: deps.box.activeKid, source_dialect: payload.source.dialect, target_dialect: deps.store.dialect, ...countPayload(payload) };
}
