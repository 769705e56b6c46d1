import pino from "pino";
import { LOG_REDACT_PATHS, redactText } from "./crypto/redact.js";

export type Logger = pino.Logger;

/**
 * The one logger. Sensitive keys are censored; error objects are reduced to name, code and a
 * redacted message (never `cause`, which OAuth libraries fill with token bodies).
 */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.BIFROST_LOG_LEVEL ?? "info",
      redact: { paths: LOG_REDACT_PATHS, censor: "[REDACTED]" },
      serializers: {
        // Request lines keep method and path; query values that carry credentials (code, state, tokens) are redacted.
        req: (req: { method?: string; url?: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: req.method,
          url: redactText(String(req.url ?? "")),
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
        err: (err: unknown) => {
          const e = err as { name?: string; code?: string; message?: string };
          return { type: e?.name ?? "Error", code: e?.code, message: redactText(String(e?.message ?? err)) };
        },
      },
    },
    opts.destination,
  );
}
