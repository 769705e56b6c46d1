import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, note, say, table } from "../output.js";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const services = () => import("../../services/keyring.js");

/** The environment to open the store with when the keyring is `file` (rotate/retire edit that file). */
function envWithKeyringFile(file: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BIFROST_KEYRING_FILE: resolve(file) };
  delete env.BIFROST_KEYRING;
  return env;
}

function parseBatch(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw new InvalidArgumentError("expected a whole number from 1 to 10000.");
  return n;
}

/** A one-line progress bar on stderr, redrawn in place (TTY only). */
function progressBar(): { update(done: number, total: number, where: string): void; end(): void } {
  let drawn = false;
  return {
    update(done, total, where) {
      const ratio = total === 0 ? 1 : Math.min(1, done / total);
      const width = 30;
      const filled = Math.round(ratio * width);
      process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${done}/${total}  ${where}\u001b[K`);
      drawn = true;
    },
    end() {
      if (drawn) process.stderr.write("\n");
    },
  };
}

export function registerKeyring(program: Command): void {
  const cmd = program.command("keyring").description("rotate the secrets keyring without downtime: rotate → rewrap → retire (see docs/operations.md)");

  cmd
    .command("rotate")
    .description("add a new random key to the keyring file and make it active (the file is rewritten atomically, mode 0600)")
    .requiredOption("--file <file>", "the keyring file (BIFROST_KEYRING_FILE of the running processes)")
    .option("--kid <id>", "key id of the new key (default: the next k<N>)")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag & { file: string; kid?: string }) => {
      const file = resolve(opts.file);
      const res = await withBifrost(async (_bf, deps) => (await services()).rotateKeyring(deps, file, opts.kid === undefined ? {} : { kid: opts.kid }), { env: envWithKeyringFile(file) });
      emit(opts, { file, ...res }, () => {
        say(`Key "${res.active}" is now active in ${file} (was "${res.previous}"; keys: ${res.kids.join(", ")}).`);
        say("Next: send SIGHUP to every running server (or restart them) so their new writes use it, then run `bifrost keyring rewrap`.");
      });
    });

  cmd
    .command("rewrap")
    .description("re-encrypt every stored value under the active key, in batches (resumable; safe with several processes)")
    .option("--batch <n>", "values per batch (each batch is one transaction)", parseBatch, 500)
    .option("--json", "machine-readable counts")
    .action(async (opts: JsonFlag & { batch: number }) => {
      const bar = !opts.json && process.stderr.isTTY ? progressBar() : null;
      const res = await withBifrost(async (_bf, deps) =>
        (await services()).rewrapAll(deps, { batch: opts.batch, ...(bar ? { onBatch: (p) => bar.update(p.done, p.total, `${p.table}.${p.column}`) } : {}) }).finally(() => bar?.end()),
      );
      emit(opts, res, () => {
        say(`Rewrapped ${res.rewrapped} value(s) under key "${res.active}" in ${res.batches} batch(es); ${res.superseded} changed meanwhile by other writers (kept as written).`);
        if (res.failed.length > 0) {
          note(`warning: ${res.failed.length} value(s) did not decrypt and were left as they are: ${res.failed.slice(0, 10).map((f) => `${f.table}/${f.id}`).join(", ")}${res.failed.length > 10 ? ", …" : ""}`);
        }
        const left = Object.entries(res.remaining);
        say(left.length === 0 ? `Every value is under "${res.active}"; older keys can be retired with \`bifrost keyring retire KID --file F\`.` : `Still under other keys: ${left.map(([k, n]) => `${k}: ${n}`).join(", ")} (run rewrap again).`);
      });
    });

  cmd
    .command("status")
    .description("the active key and how many stored values each key encrypts")
    .option("--json", "machine-readable output: {active, keys: {kid: count}}")
    .action(async (opts: JsonFlag) => {
      const res = await withBifrost(async (_bf, deps) => (await services()).keyringStatus(deps));
      emit(opts, { active: res.active, keys: res.keys }, () =>
        say(
          table(
            ["KID", "VALUES", ""],
            Object.entries(res.keys).map(([kid, n]) => [kid, n, kid === res.active ? "active" : ""]),
          ),
        ),
      );
    });

  cmd
    .command("retire")
    .description("remove a key from the keyring file (refused while it is active or any stored value uses it)")
    .argument("<kid>", "the key id to remove")
    .requiredOption("--file <file>", "the keyring file")
    .option("--json", "machine-readable output")
    .action(async (kid: string, opts: JsonFlag & { file: string }) => {
      const file = resolve(opts.file);
      const res = await withBifrost(async (_bf, deps) => (await services()).retireKey(deps, file, kid), { env: envWithKeyringFile(file) });
      emit(opts, { file, ...res }, () => {
        say(`Removed key "${res.retired}" from ${file} (keys: ${res.kids.join(", ")}; active "${res.active}").`);
        say("Send SIGHUP to running servers (or restart them). Keep a backup of the old keyring file until you are sure no backup of the database still needs it.");
      });
    });
}
