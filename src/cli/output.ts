/**
 * CLI output: human tables and messages, `--json` documents, and the error envelope.
 * Nothing here ever prints a secret: values come from the services already masked.
 */
import { CommanderError } from "commander";
import { BifrostError } from "../core/errors.js";
import { type DisplayValue, isSecretView } from "../core/types.js";
import { redactText } from "../crypto/redact.js";

export interface JsonFlag {
  json?: boolean;
}

export function write(stream: NodeJS.WriteStream, text: string): void {
  stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** A line of human output on stdout. */
export function say(text: string): void {
  write(process.stdout, text);
}

/** Notes and warnings go to stderr so stdout stays parseable. */
export function note(text: string): void {
  write(process.stderr, text);
}

/** Stable JSON on stdout. */
export function printJson(value: unknown): void {
  write(process.stdout, JSON.stringify(value, null, 2));
}

/** Either `json` (with --json) or the human rendering. */
export function emit(opts: JsonFlag, json: unknown, human: () => void): void {
  if (opts.json) printJson(json);
  else human();
}

/** Aligned columns; the last column is not padded. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>, empty = "(none)"): string {
  if (rows.length === 0) return empty;
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One config value for humans: secrets as `set (hmac-sha256:…)`, strings bare, the rest as JSON. */
export function showValue(value: DisplayValue | undefined): string {
  if (value === undefined) return "-";
  if (isSecretView(value)) return `set (${value.fingerprint})`;
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** `set a, b; unset c` (or "no changes"). */
export function describeChange(c: { set: string[]; unset: string[] }): string {
  const parts: string[] = [];
  if (c.set.length) parts.push(`set ${c.set.join(", ")}`);
  if (c.unset.length) parts.push(`unset ${c.unset.join(", ")}`);
  return parts.length ? parts.join("; ") : "no changes";
}

/** Print an error the way scripts and people expect; returns the exit code. */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof BifrostError) {
    if (json) printJson(err.toJSON());
    else write(process.stderr, `error [${err.code}]: ${err.message}`);
    return 1;
  }
  const message = redactText(err instanceof Error ? err.message : String(err));
  if (json) printJson({ statusCode: 500, code: "BIFROST_INTERNAL", message });
  else write(process.stderr, `error: ${message}`);
  if (process.env.BIFROST_DEBUG && err instanceof Error && err.stack) write(process.stderr, redactText(err.stack));
  return 1;
}
