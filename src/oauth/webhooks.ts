import { createHmac, randomUUID } from "node:crypto";
import type { Deps } from "../kernel/deps.js";
import type { StoredOAuthEvent } from "../storage/store.js";
import { guardedRequest } from "./guarded-fetch.js";
import { backoffDelayMs, type OAuthOptions } from "./options.js";

export interface WebhookOptions {
  /** BIFROST_WEBHOOK_URL. */
  url: string;
  /** BIFROST_WEBHOOK_SECRET: the HMAC-SHA256 key. */
  secret: string;
  /** Attempts before a delivery is given up (default 8). */
  maxAttempts?: number;
  /** Lease of a claimed batch (ms, default 60 000): a killed deliverer's claims are retried after it. */
  leaseMs?: number;
  batch?: number;
}

/** `X-Bifrost-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The JSON body: the stored event (payloads never carry tokens, codes or secrets). */
function webhookBody(e: StoredOAuthEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, integration_id: e.integrationId, org_id: e.orgId, created_at: e.createdAt, payload: e.payload });
}

/**
 * One delivery pass: lease due deliveries (each event goes to one process), POST each through the
 * guarded fetch, record success or schedule a retry (exponential backoff with full jitter).
 * Returns the number delivered.
 */
export async function deliverWebhooks(deps: Deps, oauth: OAuthOptions, opts: WebhookOptions, owner: string = randomUUID()): Promise<number> {
  const now = Date.now();
  const claims = await deps.store.claimWebhookDeliveries({ now: new Date(now).toISOString(), leaseUntil: new Date(now + (opts.leaseMs ?? 60_000)).toISOString(), owner, limit: opts.batch ?? 20 });
  let delivered = 0;
  for (const { event, attempts } of claims) {
    const body = webhookBody(event);
    const t = Math.floor(Date.now() / 1000);
    let error: string | null = null;
    try {
      const res = await guardedRequest(opts.url, { method: "POST", headers: { "content-type": "application/json", "x-bifrost-event": event.type, "x-bifrost-delivery": event.id, "x-bifrost-signature": signWebhook(opts.secret, t, body) }, body }, oauth);
      if (res.status < 200 || res.status >= 300) error = `the receiver answered HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : "delivery failed";
    }
    if (error === null) {
      if (await deps.store.finishWebhookDelivery(event.id, owner, { deliveredAt: new Date().toISOString() })) delivered++;
      continue;
    }
    const n = attempts + 1;
    const giveUp = n >= (opts.maxAttempts ?? 8);
    // Given up: parked far in the future (visible with its last error), never retried in a loop.
    const next = giveUp ? "9999-12-31T00:00:00.000Z" : new Date(Date.now() + backoffDelayMs(n - 1, oauth)).toISOString();
    await deps.store.finishWebhookDelivery(event.id, owner, { attempts: n, nextAttemptAt: next, error: giveUp ? `gave up after ${n} attempts: ${error}` : error });
  }
  return delivered;
}

export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookOptions | null {
  const url = env.BIFROST_WEBHOOK_URL;
  const secret = env.BIFROST_WEBHOOK_SECRET;
  return url && secret ? { url, secret } : null;
}
