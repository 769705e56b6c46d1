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
        err: (err: unknown) => {
          const e = err as { name?: string; code?: string; message?: string };
          return { type: e?.name ?? "Error", code: e?.code, message: redactText(String(e?.message ?? err)) };
        },
      },
    },
    opts.destination,
  );
}
