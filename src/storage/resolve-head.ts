/** The integration and mapping columns both dialects' resolve queries select, and their mapping to ResolveRows. */
import type { ResolveRows } from "./store.js";

export interface ResolveHeadRow {
  i_id: string;
  i_name: string;
  i_schema: string;
  i_trusted: string;
  i_private: number;
  m_id: string | null;
  m_entity_id: string | null;
  m_entity_name: string | null;
}

export const toResolveIntegration = (r: ResolveHeadRow): ResolveRows["integration"] => ({
  id: r.i_id,
  name: r.i_name,
  configSchema: r.i_schema,
  trustedOrigins: JSON.parse(r.i_trusted) as string[],
  privateNetwork: Number(r.i_private) === 1,
});

export const toResolveMapping = (r: ResolveHeadRow | undefined): ResolveRows["mapping"] =>
  r?.m_id == null ? null : { id: r.m_id, entityId: r.m_entity_id, entityName: r.m_entity_name };
