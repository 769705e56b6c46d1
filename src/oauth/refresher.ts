import type { StoredOAuthToken } from "../storage/store.js";
import { withIntegrationPolicy } from "./options.js";
import { ensureFresh, type RefreshDeps } from "./refresh.js";
import { type OAuthDeps, withOAuth } from "./service.js";
import { dueAtMs, readProvider } from "./tokens.js";

export interface RefresherOptions {
  /** How often to look for due tokens (ms). Default 15 s, with ±20 % jitter per tick. */
  intervalMs?: number;
  /** Renew tokens expiring within this many seconds. Default 300. */
  aheadSeconds?: number;
  /** Tokens claimed per tick. Default 20. */
  batch?: number;
  /** Called with a short, token-free description of each failure (for logs). */
  onError?: (message: string) => void;
}

export interface Refresher {
  /** Run one sweep now; resolves with the number of tokens renewed. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

async function renew(rd: RefreshDeps, row: StoredOAuthToken, aheadSeconds: number): Promise<void> {
  const integration = (await rd.store.listIntegrations()).find((i) => i.id === row.integrationId);
  if (!integration) return;
  const provider = await readProvider(rd.store, rd.box, integration.id);
  if (!provider) return;
  const mapping = row.mappingId && row.orgId ? await rd.store.getMapping(integration.id, row.orgId) : null;
  await ensureFresh(withIntegrationPolicy(rd, integration), { integration: { id: integration.id, name: integration.name }, provider, entityId: mapping?.entityId ?? null }, row, { aheadSeconds });
}

/**
 * Background renewal ahead of expiry. Each tick claims due tokens (PostgreSQL: FOR UPDATE SKIP
 * LOCKED, so several servers split the work) and refreshes them through the same single-flight +
 * lock path as `integrations.get()`, so it never races an on-demand refresh. Per-token jitter
 * spreads renewals of tokens that expire together.
 */
export function startRefresher(deps: OAuthDeps, opts: RefresherOptions = {}): Refresher {
  const rd = withOAuth(deps);
  const interval = opts.intervalMs ?? 15_000;
  const ahead = opts.aheadSeconds ?? 300;
  const batch = opts.batch ?? 20;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let stopped = false;

  const tick = async (): Promise<number> => {
    const now = Date.now();
    // Jitter the horizon so tokens issued together are not all renewed in the same tick.
    const horizon = new Date(now + ahead * 1000 * (0.8 + Math.random() * 0.2)).toISOString();
    const ids = await rd.store.claimOAuthRefreshWork({ now: new Date(now).toISOString(), horizon, claimUntil: new Date(now + Math.max(60_000, interval * 2)).toISOString(), limit: batch });
    let renewed = 0;
    for (const id of ids) {
      if (stopped) break;
      const row = await rd.store.getOAuthToken(id);
      if (!row) continue;
      // Claimed by the horizon but not due yet under its own lifetime (short-lived tokens): hold the
      // claim exactly until it is due, so the next tick after that renews it ahead of expiry.
      const due = row.state === "connected" ? dueAtMs(row, ahead) : null;
      if (due !== null && due > Date.now()) {
        await rd.store.updateOAuthToken(id, { claimedUntil: new Date(due).toISOString(), updatedAt: row.updatedAt });
        continue;
      }
      try {
        await renew(rd, row, ahead);
        renewed++;
      } catch (err) {
        opts.onError?.(err instanceof Error ? err.message : "refresh failed");
      }
    }
    return renewed;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().catch((err: unknown) => {
        opts.onError?.(err instanceof Error ? err.message : "refresher tick failed");
        return 0;
      });
      void running.finally(schedule);
    }, interval * (0.8 + Math.random() * 0.4));
    timer.unref();
  };
  schedule();

  return {
    tick: () => tick(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (running) await running;
    },
  };
}
