/**
 * Fingerprints are bound to their row (DESIGN.md §9.4, SecretBox.fingerprint). Rows written before that
 * carry an unbound fingerprint (`hmac-sha256:` + 12 hex digits, bound ones have 16), equal for equal values in different rows; a migration
 * cannot recompute them (it has no keyring), so start-up does, once: every stored fingerprint without
 * the row-bound form is recomputed from the decrypted value. Later starts find none (one query) and write nothing.
 * Each write is conditional on the row still holding the ciphertext that was read, so a concurrent
 * change of the value (another process) is never overwritten.
 */
import { DecryptError } from "../core/errors.js";
import { isRowBoundFingerprint, type SecretBox } from "../crypto/secret-box.js";
import { providerSecretContext } from "../oauth/tokens.js";
import type { Store } from "../storage/store.js";
import { secretContext } from "./config-values.js";

export interface FingerprintRefresh {
  /** Rows whose fingerprint was recomputed. */
  updated: number;
  /** Rows that no longer decrypt (tampered, or a key is missing): left as they are, reported by id. */
  skipped: string[];
}

export async function refreshUnboundFingerprints(store: Store, box: SecretBox): Promise<FingerprintRefresh> {
  const out: FingerprintRefresh = { updated: 0, skipped: [] };
  // One query at every start; the walk over every integration only when some fingerprint needs it.
  if (!(await store.hasUnboundFingerprints())) return out;
  const decrypt = (ciphertext: string, ctx: Parameters<SecretBox["decrypt"]>[1], id: string): string | null => {
    try {
      return box.decrypt(ciphertext, ctx);
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      out.skipped.push(id);
      return null;
    }
  };
  for (const integration of await store.listIntegrations()) {
    for (const v of await store.listConfigValues(integration.id)) {
      if (!v.isSecret || isRowBoundFingerprint(v.fingerprint)) continue;
      const ctx = secretContext(v);
      const plain = decrypt(v.value, ctx, v.id);
      if (plain === null) continue;
      const target = { table: "config_values" as const, id: v.id, integrationId: integration.id, ciphertext: v.value };
      if (await store.setSecretFingerprint(target, box.fingerprint(plain, ctx))) out.updated++;
    }
    const p = await store.getOAuthProvider(integration.id);
    if (p && !isRowBoundFingerprint(p.clientSecretFingerprint)) {
      const ctx = providerSecretContext(p.id);
      const plain = decrypt(p.clientSecret, ctx, p.id);
      if (plain === null) continue;
      const target = { table: "oauth_providers" as const, id: p.id, integrationId: integration.id, ciphertext: p.clientSecret };
      if (await store.setSecretFingerprint(target, box.fingerprint(plain, ctx))) out.updated++;
    }
  }
  return out;
}
