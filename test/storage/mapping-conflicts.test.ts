import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../src/core/errors.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";

/**
 * Unique violations on mappings are told apart: (integration, entity_id) says only that the entity id
 * is mapped to another organization (no org name, no id echo); (integration, org) is reported as the
 * organization's own duplicate, never as an entity conflict.
 */
for (const backend of BACKENDS) {
  describe(`${backend.name}: mapping unique violations`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let integrationId = "";
    const orgIds: Record<string, string> = {};

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      await createIntegration(bf, { name: "Halo" });
      for (const slug of ["secret-tenant-corp", "nosy"]) await createOrg(bf, { slug });
      integrationId = (await bf.store.getIntegrationByName("Halo"))!.id;
      for (const slug of ["secret-tenant-corp", "nosy"]) orgIds[slug] = (await bf.store.getOrgBySlug(slug))!.id;
      await setMapping(bf, "Halo", "secret-tenant-corp", { entityId: "ent-42" });
    });
    afterAll(async () => cleanup?.());

    const row = (org: string, entityId: string | null) => {
      const now = new Date().toISOString();
      return { id: bf.clock.id(), integrationId, orgId: orgIds[org]!, entityId, entityName: null, createdAt: now, updatedAt: now };
    };

    it("insert with an entity id another org has → generic entity message, no org name", async () => {
      const err = await bf.store.insertMapping(row("nosy", "ent-42")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      const msg = (err as Error).message;
      expect(msg).toBe("This entity id is already mapped to another organization for this integration.");
      const text = JSON.stringify((err as ConflictError).toJSON());
      expect(text).not.toContain("secret-tenant-corp");
      expect(text).not.toContain(orgIds["secret-tenant-corp"]);
    });

    it("update to an entity id another org has → the same generic entity message", async () => {
      await setMapping(bf, "Halo", "nosy", { entityId: "ent-7" });
      const mine = (await bf.store.getMapping(integrationId, orgIds.nosy!))!;
      const err = await bf.store.updateMapping(mine.id, { entityId: "ent-42", updatedAt: new Date().toISOString() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toBe("This entity id is already mapped to another organization for this integration.");
      expect((err as Error).message).not.toContain("secret-tenant-corp");
    });

    it("a second mapping for the same org (integration, org) → reported as the org's own duplicate, not as an entity conflict", async () => {
      const err = await bf.store.insertMapping(row("secret-tenant-corp", "fresh-entity")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      const msg = (err as Error).message;
      expect(msg).toBe("This organization already has a mapping for this integration.");
      expect(msg).not.toMatch(/entity/i);
    });

    it("the service surface (setMapping) shows no other org's name either", async () => {
      const err = await setMapping(bf, "Halo", "nosy", { entityId: "ent-42" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect(JSON.stringify((err as ConflictError).toJSON())).not.toContain("secret-tenant-corp");
    });
  });
}
