/**
 * Run the `bifrost` command line in this process (src/cli/program.ts), with its own environment and
 * working directory, capturing stdout, stderr and the exit code. For tests where the process
 * boundary is not the point; tests of signals, process guards or the built binary spawn bin/bifrost.js.
 * Calls must not overlap (they swap process.env, the working directory and the output streams).
 */
import { main } from "../../src/cli/program.js";

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Variables a test environment must not leak into a command (the caller's store, keyring, server). */
const ISOLATED = /^(BIFROST_|DATABASE_URL$|PORT$)/;

let busy = false;

export async function runCliInProcess(args: readonly string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  if (busy) throw new Error("runCliInProcess: calls must not overlap");
  busy = true;
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const out = { stdout: "", stderr: "" };
  const savedWrite = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture =
    (key: "stdout" | "stderr") =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      out[key] += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    };
  try {
    for (const k of Object.keys(process.env)) if (ISOLATED.test(k)) delete process.env[k];
    Object.assign(process.env, opts.env ?? {});
    if (opts.cwd) process.chdir(opts.cwd);
    process.stdout.write = capture("stdout") as typeof process.stdout.write;
    process.stderr.write = capture("stderr") as typeof process.stderr.write;
    const status = await main(["node", "bifrost", ...args]);
    return { status, ...out };
  } finally {
    process.stdout.write = savedWrite.stdout;
    process.stderr.write = savedWrite.stderr;
    process.chdir(savedCwd);
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    busy = false;
  }
}
