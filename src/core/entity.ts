/**
 * Entity ids (the external tenant / company id of a mapping). The stored id keeps the user's spelling;
 * uniqueness per integration is on `entityKey()`, so spellings that name the same tenant collide.
 */
import { ValidationError } from "./errors.js";

export const ENTITY_MAX = 256;

/**
 * The comparison form of an entity id: Unicode NFC, trimmed, case-folded (upper then lower case, so
 * `ß` and `SS` meet), NFC again, one trailing dot removed (`tenant-abc.` is the DNS spelling of
 * `tenant-abc`). Stored in `mappings.entity_key`.
 */
export function entityKey(entityId: string): string {
  const folded = entityId.normalize("NFC").trim().toUpperCase().toLowerCase().normalize("NFC");
  return folded.endsWith(".") ? folded.slice(0, -1) : folded;
}

/** Control, format (zero-width, bidi override) and line/paragraph separator characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Validate an entity id as given by a user (API, console, yaml, CLI): a string (or a safe integer) of at
 * most 256 characters, without invisible characters, and without surrounding whitespace (refused, not
 * trimmed: a padded copy would look like another tenant). null or "" clears it.
 */
export function checkEntityId(value: unknown, field = "entity_id"): string | null {
  if (value === null || value === "") return null;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && value.trim() !== value) {
    throw new ValidationError(
      `${field} ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} has leading or trailing whitespace; remove it (entity ids are compared without it, so a padded copy would name the same tenant). Nothing was stored.`,
      { path: field },
    );
  }
  if (typeof value !== "string" || value.length > ENTITY_MAX || INVISIBLE.test(value)) {
    throw new ValidationError(
      `${field} must be a string of at most ${ENTITY_MAX} printable characters without control or zero-width characters (or null to clear it). Nothing was stored.`,
      { path: field },
    );
  }
  if (entityKey(value) === "") {
    throw new ValidationError(`${field} must contain more than a dot. Nothing was stored.`, { path: field });
  }
  return value;
}
