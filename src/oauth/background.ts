import { randomUUID } from "node:crypto";
import { auditRetentionDaysFromEnv, pruneAuditLog, SYSTEM_CONTEXT, withAuditContext } from "../kernel/audit.js";
import { startRefresher, type RefresherOptions } from "./refresher.js";
import { type OAuthDeps, withOAuth } from "./service.js";
import { deliverWebhooks, type WebhookOptions, webhookOptionsFromEnv } from "./webhooks.js";

export interface BackgroundOptions {
  refresher?: RefresherOptions;
  /** Webhook delivery; default from BIFROST_WEBHOOK_URL + BIFROST_WEBHOOK_SECRET; null = off. */
  webhooks?: WebhookOptions | null;
  /** Audit retention in days (default BIFROST_AUDIT_RETENTION_DAYS, else 365); entries older are deleted. */
  auditRetentionDays?: number;
  /** How often the retention pass runs (ms, default one hour; also once at start). */
  auditPruneIntervalMs?: number;
  /** How often the deliverer polls (ms, default 2 000, ±20 % jitter). */
  webhookIntervalMs?: number;
  onError?: (message: string) => void;
}

/**
 * The server's background work: the token refresher and, when configured, the webhook deliverer.
 * `stop()` waits for the running pass of each (in-flight refreshes drain before exit).
 */
export function startBackgroundWork(deps: OAuthDeps, opts: BackgroundOptions = {}): { stop(): Promise<void> } {
  // The timers started here keep this context: background refreshes are the server's own ("system"), not the starter's.
  return withAuditContext(SYSTEM_CONTEXT, () => startWork(deps, opts));
}

function startWork(deps: OAuthDeps, opts: BackgroundOptions): { stop(): Promise<void> } {
  const refresher = startRefresher(deps, { ...(opts.onError ? { onError: opts.onError } : {}), ...opts.refresher });
  const hooks = opts.webhooks === undefined ? webhookOptionsFromEnv() : opts.webhooks;
  const rd = withOAuth(deps);
  const owner = `${process.pid}:${randomUUID().slice(0, 8)}`;
  const interval = opts.webhookIntervalMs ?? 2_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const schedule = () => {
    if (stopped || !hooks) return;
    timer = setTimeout(() => {
      running = deliverWebhooks(rd, rd.oauth, hooks, owner)
        .catch((err: unknown) => opts.onError?.(err instanceof Error ? err.message : "webhook delivery failed"))
        .finally(schedule);
    }, interval * (0.8 + Math.random() * 0.4));
    timer.unref();
  };
  schedule();
  const retention = startAuditRetention(deps, opts);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all([refresher.stop(), running, retention.stop()]);
    },
  };
}

/** Delete audit entries past the retention period: at start, then every `auditPruneIntervalMs`. */
function startAuditRetention(deps: OAuthDeps, opts: BackgroundOptions): { stop(): Promise<void> } {
  const days = opts.auditRetentionDays ?? auditRetentionDaysFromEnv();
  const every = opts.auditPruneIntervalMs ?? 3_600_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const pass = () => {
    running = pruneAuditLog(deps, days)
      .catch((err: unknown) => opts.onError?.(`audit retention failed: ${err instanceof Error ? err.message : "unknown error"}`))
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(pass, every);
        timer.unref();
      });
  };
  pass();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
