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
 * These handlers report the fault redacted (secrets of running executions, credentials in text) and
 * keep the process alive.
 */
export function installProcessGuards(report: (fault: ProcessFault) => void): void {
  if (installed) return;
  installed = true;
  const handle = (kind: ProcessFault["kind"]) => (reason: unknown) => {
    report({ kind, message: redactText(describe(reason), activeSecrets()), executionId: currentContext()?.executionId ?? null });
  };
  process.on("unhandledRejection", handle("unhandledRejection"));
  process.on("uncaughtException", handle("uncaughtException"));
}
