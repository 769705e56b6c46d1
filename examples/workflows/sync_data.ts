// workflows/sync_data.ts
import { workflow, integrations } from "bifrost";

export default workflow("sync_data", async (input: { since?: string }) => {
  const halo = await integrations.get("HaloPSA");
  if (!halo) return { error: "Integration not configured" };
  return { base: halo.config.get("base_url"), tenant: halo.entityId, timeout: halo.config.get("timeout"), since: input.since ?? null };
});
