import { redactText } from "../crypto/redact.js";
import { activeSecrets, currentContext } from "./context.js";

export interface ProcessFault {
  kind: "unhandledRejection" | "uncaughtException";
  /** Redacted message and stack: safe to log. */
  message: string;
  /** The execution the fault came from, when it is known. */
  executionId: string | null;
}

let installed = false;

function describe(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}\n${reason.stack?.split("\n").slice(1).join("\n") ?? ""}`;
  return String(reason);
}

/**
 * A workflow that leaves a promise rejection unhandled (or throws from a timer) must not take the
 * process down for every tenant, and Node's default report would print the error, secrets included.
 * These handlers report the fault redacted (the secrets of its own execution and of every execution
 * still alive, credentials in text) with its execution id, and keep the process alive.
 */
export function installProcessGuards(report: (fault: ProcessFault) => void): void {
  if (installed) return;
  installed = true;
  // The handlers run in the async context of the failing code (AsyncLocalStorage follows timers and
  // promise callbacks), so a late error of an execution that returned long ago is still attributed to
  // it and redacted with its own secrets, however many executions ran since; the secrets of every
  // execution still alive are removed too, for errors no execution claims.
  const handle = (kind: ProcessFault["kind"]) => (reason: unknown) => {
    const ctx = currentContext();
    report({ kind, message: redactText(describe(reason), [...(ctx?.secrets ?? []), ...activeSecrets()]), executionId: ctx?.executionId ?? null });
  };
  process.on("unhandledRejection", handle("unhandledRejection"));
  process.on("uncaughtException", handle("uncaughtException"));
}
