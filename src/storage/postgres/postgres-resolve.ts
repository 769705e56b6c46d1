import type { Selectable } from "kysely";
import { type ResolveHeadRow, toResolveIntegration, toResolveMapping } from "../resolve-head.js";
import { toOAuthToken, toProvider } from "../rows.js";
import type { OAuthTokensTable } from "../schema.js";
import type { ResolveRows } from "../store.js";

/**
 * PostgreSQL's resolve: one row per call, values aggregated into two JSON arrays (defaults, this
 * org's overrides), each from its own index. One row parses faster than one row per value.
 * $1 = org id, $2 = integration name.
 */
export const RESOLVE_PG = `SELECT i.id AS i_id, i.name AS i_name, i.config_schema AS i_schema,
  i.trusted_origins AS i_trusted, i.private_network AS i_private,
  m.id AS m_id, m.entity_id AS m_entity_id, m.entity_name AS m_entity_name,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id IS NULL) AS defaults,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id = $1) AS overrides,
  p.id AS p_id, p.flow AS p_flow, p.settings AS p_settings, p.client_secret AS p_secret,
  p.client_secret_fingerprint AS p_fp, p.created_at AS p_created_at, p.updated_at AS p_updated_at,
  CASE WHEN p.id IS NULL THEN NULL ELSE
    (SELECT json_agg(row_to_json(t)) FROM oauth_tokens t
      WHERE t.integration_id = i.id AND t.owner_key IN ('i', 'o:' || $1, 'm:' || m.id)) END AS tokens
FROM integrations i
LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = $1
LEFT JOIN oauth_providers p ON p.integration_id = i.id
WHERE i.name = $2`;

type PackedValue = [id: string, key: string, value: string, isSecret: number, fingerprint: string | null, updatedAt: string];

export interface ResolvePgRow extends ResolveHeadRow {
  defaults: PackedValue[] | null;
  overrides: PackedValue[] | null;
  p_id: string | null;
  p_flow: string;
  p_settings: string;
  p_secret: string;
  p_fp: string;
  p_created_at: string;
  p_updated_at: string;
  tokens: Array<Selectable<OAuthTokensTable>> | null;
}

export function unpack(row: ResolvePgRow | undefined, orgId: string | null): ResolveRows | null {
  if (!row) return null;
  const values = (list: PackedValue[] | null, owner: string | null) =>
    (list ?? []).map(([id, key, value, isSecret, fingerprint, updatedAt]) => ({
      id,
      integrationId: row.i_id,
      orgId: owner,
      key,
      value,
      isSecret: Number(isSecret) === 1,
      fingerprint,
      updatedAt,
    }));
  return {
    integration: toResolveIntegration(row),
    mapping: toResolveMapping(row),
    values: [...values(row.defaults, null), ...values(row.overrides, orgId)],
    hasOAuth: row.p_id !== null,
    oauth:
      row.p_id === null
        ? null
        : {
            provider: toProvider({
              id: row.p_id,
              integration_id: row.i_id,
              flow: row.p_flow,
              settings: row.p_settings,
              client_secret: row.p_secret,
              client_secret_fingerprint: row.p_fp,
              created_at: row.p_created_at,
              updated_at: row.p_updated_at,
            }),
            tokens: (row.tokens ?? []).map(toOAuthToken),
          },
  };
}
