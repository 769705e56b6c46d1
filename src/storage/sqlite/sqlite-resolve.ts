import { type ResolveHeadRow, toResolveIntegration, toResolveMapping } from "../resolve-head.js";
import type { ResolveRows, StoredConfigValue } from "../store.js";

/** One flat row of the resolve query (integration × mapping × value). */
export interface ResolveFlatRow extends ResolveHeadRow {
  v_id: string | null;
  v_org_id: string | null;
  v_key: string | null;
  v_value: string | null;
  v_is_secret: number | null;
  v_fp: string | null;
  v_updated_at: string | null;
  has_oauth: number | boolean | null;
}

/**
 * The resolve query; `:name` and `:org` are replaced by each dialect's placeholders.
 * Two arms so each uses its own index: defaults (with the org's mapping) and the org's overrides.
 */
export const RESOLVE_SQL = `SELECT i.id AS i_id, i.name AS i_name, i.config_schema AS i_schema,
  i.trusted_origins AS i_trusted, i.private_network AS i_private,
  m.id AS m_id, m.entity_id AS m_entity_id, m.entity_name AS m_entity_name,
  v.id AS v_id, v.org_id AS v_org_id, v.key AS v_key, v.value AS v_value, v.is_secret AS v_is_secret,
  v.fingerprint AS v_fp, v.updated_at AS v_updated_at,
  EXISTS (SELECT 1 FROM oauth_providers p WHERE p.integration_id = i.id) AS has_oauth
FROM integrations i
LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = :org
LEFT JOIN config_values v ON v.integration_id = i.id AND v.org_id IS NULL
WHERE i.name = :name
UNION ALL
SELECT i.id, i.name, i.config_schema, i.trusted_origins, i.private_network, NULL, NULL, NULL,
  v.id, v.org_id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at, NULL
FROM integrations i
JOIN config_values v ON v.integration_id = i.id AND v.org_id = :org
WHERE i.name = :name`;


export function foldResolveRows(rows: readonly ResolveFlatRow[]): ResolveRows | null {
  const first = rows[0];
  if (!first) return null;
  const values: StoredConfigValue[] = [];
  let mapped: ResolveFlatRow | undefined;
  for (const r of rows) {
    if (r.m_id !== null) mapped = r;
    if (r.v_id === null) continue;
    values.push({
      id: r.v_id,
      integrationId: first.i_id,
      orgId: r.v_org_id,
      key: r.v_key as string,
      value: r.v_value as string,
      isSecret: Number(r.v_is_secret) === 1,
      fingerprint: r.v_fp,
      updatedAt: r.v_updated_at as string,
    });
  }
  return {
    integration: toResolveIntegration(first),
    mapping: toResolveMapping(mapped),
    values,
    hasOAuth: Boolean(Number(first.has_oauth ?? 0)),
    oauth: null,
  };
}
