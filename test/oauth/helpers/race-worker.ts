/**
 * A worker process for the refresh race: opens Bifrost on the shared database, waits for "go"
 * messages and fires N concurrent integrations.get() calls, each in its own execution context.
 * argv: integration org N [kill-after-token]
 */
import { createHash } from "node:crypto";
import { openBifrost } from "../../../src/host/bootstrap.js";
import { StoreResolver } from "../../../src/host/store-resolver.js";
import { getAs, TEST_OAUTH } from "./setup.js";

const [integration = "Halo", orgSlug = "acme", n = "50", mode = ""] = process.argv.slice(2);
const bf = await openBifrost({ warn: () => undefined, allowCreateDevKeyring: false });
const resolver = new StoreResolver(bf.store, bf.box, {
  clock: bf.clock,
  oauth: { ...TEST_OAUTH, skewSeconds: 60, timeoutMs: 8000, ...(mode === "kill-after-token" ? { hooks: { afterTokenResponse: () => void process.kill(process.pid, "SIGKILL") } } : {}) },
});
const org = await resolver.findOrg(orgSlug);
process.on("message", async (msg: { go: number }) => {
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: Number(n) }, async () => {
      const t0 = performance.now();
      try {
        const r = await getAs(resolver, integration, org);
        return { token: createHash("sha256").update(r?.oauth?.accessToken ?? "").digest("hex"), ms: performance.now() - t0 };
      } catch (err) {
        return { error: (err as { code?: string }).code ?? "error", ms: performance.now() - t0 };
      }
    }),
  );
  process.send?.({ round: msg.go, results, wall: performance.now() - started });
});
process.on("disconnect", () => void bf.close().then(() => process.exit(0)));
process.send?.({ ready: true });
