import { format } from "node:util";
import { redactForms, redactionForms, redactPatterns } from "../crypto/redact.js";
import { currentContext, type ExecutionContext } from "./context.js";
import type { OutputMethod, OutputSink } from "./types.js";

/** Each record is cut to this many characters (after redaction). */
const OUTPUT_RECORD_MAX = 64 * 1024;

const METHODS: ReadonlyArray<Exclude<OutputMethod, "write">> = ["log", "info", "debug", "trace", "warn", "error"];
const STREAM: Record<OutputMethod, "stdout" | "stderr"> = { log: "stdout", info: "stdout", debug: "stdout", write: "stdout", trace: "stderr", warn: "stderr", error: "stderr" };

type Write = typeof process.stdout.write;

/**
 * Capture state, one per process even if two copies of this module are loaded (like the execution
 * context, it lives on a global symbol): whether capture is installed, whether a sink is running (its
 * own writes pass straight through, no capture loop), and the stream writes as they were before.
 */
interface CaptureState {
  installed: boolean;
  dispatching: boolean;
  originalWrite: { stdout: Write | null; stderr: Write | null };
}
const KEY = Symbol.for("bifrost.outputCapture.v1");
const holder = globalThis as unknown as Record<symbol, CaptureState | undefined>;
const state: CaptureState = (holder[KEY] ??= { installed: false, dispatching: false, originalWrite: { stdout: null, stderr: null } });
const originalWrite = state.originalWrite;

/** Write to the real stdout/stderr, bypassing capture. */
export function writeRaw(stream: "stdout" | "stderr", text: string): void {
  const target = process[stream];
  const write = originalWrite[stream] ?? target.write;
  write.call(target, text);
}

/** The default sink: the real stream of the method, each line prefixed with the execution id. */
export const printOutput: OutputSink = (o) => {
  writeRaw(o.stream, `${o.text.split("\n").map((l) => `[execution ${o.executionId}] ${l}`).join("\n")}\n`);
};

/** Redaction forms per execution, recomputed when the execution learned more secrets. Weakly held. */
const formsCache = new WeakMap<ExecutionContext, { size: number; forms: string[] }>();

/** Redact `text` with the execution's own secrets (every form) and the generic credential patterns. */
function redactForExecution(ctx: ExecutionContext, text: string): string {
  let hit = formsCache.get(ctx);
  if (!hit || hit.size !== ctx.secrets.size) {
    hit = { size: ctx.secrets.size, forms: redactionForms(ctx.secrets) };
    formsCache.set(ctx, hit);
  }
  return redactPatterns(redactForms(text, hit.forms));
}

function dispatch(ctx: ExecutionContext, method: OutputMethod, raw: string, stream: "stdout" | "stderr" = STREAM[method]): void {
  let text = redactForExecution(ctx, raw);
  if (text.length > OUTPUT_RECORD_MAX) text = `${text.slice(0, OUTPUT_RECORD_MAX)}… [truncated]`;
  state.dispatching = true;
  try {
    (ctx.output ?? printOutput)({ executionId: ctx.executionId, stream, method, text });
  } catch {
    // A failing sink must not fail the workflow's console call.
  } finally {
    state.dispatching = false;
  }
}

/**
 * Capture console output per execution: console.log/info/debug/trace/warn/error and
 * process.stdout/stderr.write called inside an execution (its AsyncLocalStorage context, which also
 * follows timers and promise callbacks the execution started) go to that execution's sink, redacted
 * with its own secrets. Calls outside any execution are passed through untouched. Idempotent.
 */
export function installOutputCapture(): void {
  if (state.installed) return;
  state.installed = true;
  for (const method of METHODS) {
    const original = console[method] as (...args: unknown[]) => void;
    console[method] = function captured(this: unknown, ...args: unknown[]): void {
      const ctx = state.dispatching ? undefined : currentContext();
      if (!ctx) return original.apply(console, args);
      let text = format(...args);
      if (method === "trace") text = `Trace: ${text}\n${(new Error().stack ?? "").split("\n").slice(2).join("\n")}`;
      dispatch(ctx, method, text);
    };
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const target = process[stream];
    const original = target.write;
    originalWrite[stream] = original;
    target.write = function captured(this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      const ctx = state.dispatching ? undefined : currentContext();
      if (!ctx) return (original as (...a: unknown[]) => boolean).call(target, chunk, ...rest);
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
      dispatch(ctx, "write", text.replace(/\n$/, ""), stream);
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      if (cb) queueMicrotask(cb);
      return true;
    } as Write;
  }
}
