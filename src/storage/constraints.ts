/** Constraint translation: a driver's unique violation becomes a ConflictError that names what clashed. */
import { ConflictError } from "../core/errors.js";

/** Translate driver unique-violation errors into ConflictError. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "23505" || e?.code === "SQLITE_CONSTRAINT_UNIQUE" || e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

export async function unique<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`${what} already exists.`);
    throw err;
  }
}

/** Which unique constraint of `mappings` a violation hit (PostgreSQL: err.constraint; SQLite: the message names the columns). */
function mappingConstraint(err: unknown): "entity" | "org" | "other" {
  const e = err as { constraint?: unknown; message?: unknown };
  if (typeof e?.constraint === "string") {
    if (e.constraint === "mappings_integration_entity_key_uq" || e.constraint === "mappings_integration_entity_uq") return "entity";
    if (e.constraint === "mappings_integration_org_uq") return "org";
    return "other";
  }
  const msg = typeof e?.message === "string" ? e.message : "";
  if (/mappings\.integration_id,\s*mappings\.entity_(id|key)/.test(msg)) return "entity";
  if (/mappings\.integration_id,\s*mappings\.org_id/.test(msg)) return "org";
  return "other";
}

/**
 * Mapping writes: a violation of (integration_id, entity_id) says only that the entity id is taken
 * by another organization (never which one, nor echoing the id); (integration_id, org_id) means this
 * organization already has a mapping (a concurrent write).
 */
export async function uniqueMapping<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    switch (mappingConstraint(err)) {
      case "entity":
        throw new ConflictError("This entity id is already mapped to another organization for this integration.", { constraint: "entity_id" });
      case "org":
        throw new ConflictError("This organization already has a mapping for this integration.", { constraint: "org" });
      default:
        throw new ConflictError("The mapping conflicts with an existing one.");
    }
  }
}
