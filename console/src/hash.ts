/** Rewriting the hash without a navigation, and telling the shell about it. */
/** The event `replaceHash` raises so the shell sees the new hash (replaceState raises no hashchange). */
export const HASH_REPLACED = "bifrost:hash-replaced";

/** Rewrite the hash in place (filters kept in the URL): no history entry, no navigation. */
export function replaceHash(hash: string): void {
  if (window.location.hash === hash) return;
  window.history.replaceState(null, "", hash);
  window.dispatchEvent(new Event(HASH_REPLACED));
}
