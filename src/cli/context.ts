/** Opening the store for one CLI command, and small argument helpers shared by the commands. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { InvalidArgumentError } from "commander";
import { ValidationError } from "../core/errors.js";
import type { Bifrost, BifrostCore } from "../host/bootstrap.js";
import type { Deps } from "../kernel/deps.js";

/** Open storage and keyring (creating a development keyring on first use), run `fn`, always close. `env` replaces process.env for opening. */
export async function withBifrost<T>(fn: (bf: BifrostCore, deps: Deps) => Promise<T>, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<T> {
  // Loaded here, not at start-up: commands that never open the store stay fast (see main.ts).
  const { openCore } = await import("../host/bootstrap.js");
  return using(await openCore({ warn: cliWarn, ...(opts.env ? { env: opts.env } : {}) }), fn);
}

/** `withBifrost` with the resolver (OAuth client, cache): for commands that run workflows. */
export async function withRuntime<T>(fn: (bf: Bifrost, deps: Deps) => Promise<T>): Promise<T> {
  const { openBifrost } = await import("../host/bootstrap.js");
  return using(await openBifrost({ warn: cliWarn }), fn);
}

async function using<B extends BifrostCore, T>(bf: B, fn: (bf: B, deps: Deps) => Promise<T>): Promise<T> {
  try {
    return await fn(bf, { store: bf.store, box: bf.box, clock: bf.clock });
  } finally {
    await bf.close();
  }
}

/** Keyring warnings on one stderr line (stdout stays clean for --json and `run`). */
export function cliWarn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** Commander argument parser for ports: usage error (exit 2) when not 0-65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected a port number (0-65535).");
  return n;
}

/**
 * A structured option value: inline JSON (starts with `[` or `{`) or a YAML/JSON file. When the
 * document is an object holding `unwrapKey`, that member is returned. Parser messages are never
 * echoed (they quote the text, which may hold a secret).
 */
export function readStructuredArg(arg: string, flag: string, unwrapKey?: string): unknown {
  const trimmed = arg.trim();
  let value: unknown;
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new ValidationError(`${flag} is not valid JSON.`, { path: flag });
    }
  } else {
    let text: string;
    try {
      text = readFileSync(arg, "utf8");
    } catch (err) {
      throw new ValidationError(`${flag}: cannot read file ${arg} (${(err as NodeJS.ErrnoException).code ?? "unreadable"}); pass a file or inline JSON.`, { path: flag });
    }
    try {
      // Loaded on first use (synchronously, the package's CommonJS build): most commands never parse YAML.
      const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
      value = parse(text);
    } catch {
      throw new ValidationError(`${flag} file ${arg} is not valid YAML/JSON.`, { path: flag });
    }
  }
  if (unwrapKey !== undefined && typeof value === "object" && value !== null && !Array.isArray(value) && unwrapKey in value) {
    return (value as Record<string, unknown>)[unwrapKey];
  }
  return value;
}

/** `--schema`: a list of schema items, or `{ config_schema: [...] }`. */
export function readSchemaArg(arg: string): unknown {
  return readStructuredArg(arg, "--schema", "config_schema");
}

/** `key=value` pairs, split on the FIRST '='. Values stay strings; the service coerces them by the schema. */
export function parseAssignments(pairs: readonly string[]): Record<string, string> {
  if (pairs.length === 0) throw new ValidationError("Give at least one key=value pair, e.g. `bifrost config set HaloPSA timeout=45`.");
  const out: Record<string, string> = {};
  for (const [n, pair] of pairs.entries()) {
    const i = pair.indexOf("=");
    // The argument itself is not echoed: it may be a secret typed without its key.
    if (i <= 0) throw new ValidationError(`Argument ${n + 1} is not key=value: write each value as key=value (e.g. timeout=45).`);
    const key = pair.slice(0, i);
    if (Object.hasOwn(out, key)) throw new ValidationError(`Config key "${key}" is given twice; give each key once.`, { key });
    Object.defineProperty(out, key, { value: pair.slice(i + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
