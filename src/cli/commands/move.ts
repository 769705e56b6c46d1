/**
 * Moving an instance with its secrets: `bifrost export --with-secrets --passphrase-env VAR --out F` (the option
 * handling lives in apply.ts beside the plain export; the work here) and `bifrost import F --passphrase-env VAR`.
 * The passphrase is read from the environment variable named on the command line, never from an argument
 * (arguments land in shell history and process listings). The export file is written atomically with mode 0600.
 */
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync, fchmodSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { ImportFileError, PassphraseError, ValidationError } from "../../core/errors.js";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say } from "../output.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Loaded by the actions that use them, so defining the commands stays cheap (see main.ts). */
const sealedFile = () => import("../../crypto/sealed-file.js");

/** The passphrase from the variable `name` (validated; the value is never echoed). */
async function passphraseFrom(name: string | undefined, command: string): Promise<{ passphrase: string; source: string }> {
  if (name === undefined) {
    throw new PassphraseError(`${command} needs --passphrase-env VAR: the name of an environment variable holding the passphrase (for example \`export MOVE_PASS=…\` and \`--passphrase-env MOVE_PASS\`).`);
  }
  // Not quoted back: someone may have typed the passphrase itself here.
  if (!ENV_NAME.test(name)) throw new PassphraseError(`--passphrase-env takes the NAME of an environment variable (letters, digits, '_'), not the passphrase itself.`);
  const value = process.env[name];
  const source = `environment variable ${name}`;
  if (value === undefined) throw new PassphraseError(`Environment variable ${name} is not set. Set it to the passphrase (at least 16 characters, e.g. \`export ${name}="$(openssl rand -base64 32)"\`) and run again.`, { variable: name });
  const { checkPassphrase } = await sealedFile();
  return { passphrase: checkPassphrase(value, source), source };
}

/**
 * Write `bytes` to `path` atomically with mode 0600: a new temporary file in the same directory (created
 * exclusively, 0600 from the start), fsync, rename over the target, fsync the directory.
 */
function writeFileAtomic0600(path: string, bytes: Buffer): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    fchmodSync(fd, 0o600);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is atomic.
  }
}

function writeRefused(out: string, err: unknown): ValidationError {
  const code = (err as NodeJS.ErrnoException).code ?? "unwritable";
  return new ValidationError(`Cannot write ${out} (${code}); give --out a file path in an existing, writable directory. Nothing was written.`, { option: "--out", file: out, reason: code });
}

export interface SecretExportOptions extends JsonFlag {
  out?: string;
  passphraseEnv?: string;
  format?: string;
}

/** `bifrost export --with-secrets`: refuses before opening anything when an option is missing. */
export async function exportWithSecretsCommand(opts: SecretExportOptions): Promise<void> {
  if (!opts.out) {
    throw new ValidationError("`bifrost export --with-secrets` needs --out FILE: the encrypted export is binary and is never written to stdout.", { option: "--out" });
  }
  if (opts.format) throw new ValidationError("--format applies to the plain export; --with-secrets always writes the encrypted format (see docs/operations.md).", { option: "--format" });
  const { passphrase } = await passphraseFrom(opts.passphraseEnv, "`bifrost export --with-secrets`");
  const out = opts.out;
  // Fail before reading the store when the file cannot be written (the rename below reports the rest).
  try {
    accessSync(dirname(out), constants.W_OK);
  } catch (err) {
    throw writeRefused(out, err);
  }
  const { exportWithSecrets } = await import("../../services/instance-export.js");
  const { counts } = await withBifrost(async (_bf, deps) => {
    const sealed = await exportWithSecrets(deps, passphrase);
    try {
      writeFileAtomic0600(out, sealed.bytes);
    } catch (err) {
      throw writeRefused(out, err);
    }
    return sealed;
  });
  const summary = { file: out, encrypted: true, ...counts };
  emit(opts, summary, () =>
    say(
      `Exported ${counts.organizations} organization(s), ${counts.integrations} integration(s), ${counts.mappings} mapping(s), ${counts.values} config value(s), ` +
        `${counts.oauth_providers} OAuth provider(s) and ${counts.oauth_tokens} OAuth token(s) (${counts.secrets} secret(s)) to ${out}, encrypted with the passphrase (mode 0600). ` +
        `Keep the file and the passphrase apart; import with \`bifrost import ${out} --passphrase-env VAR\`.`,
    ),
  );
}

export function registerImport(program: Command): void {
  program
    .command("import")
    .description("import an export written by `bifrost export --with-secrets` into this (empty) instance, re-encrypting every secret under its keyring")
    .argument("<file>")
    .option("--passphrase-env <VAR>", "name of the environment variable holding the passphrase")
    .option("--json", "machine-readable output")
    .action(async (file: string, opts: JsonFlag & { passphraseEnv?: string }) => {
      const { passphrase, source } = await passphraseFrom(opts.passphraseEnv, "`bifrost import`");
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new ImportFileError(`Cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "unreadable"}); give the path of a file written by \`bifrost export --with-secrets\`.`, { file });
      }
      const { importWithSecrets } = await import("../../services/instance-import.js");
      const report = await withBifrost((_bf, deps) => importWithSecrets(deps, bytes, passphrase, { file, source }));
      emit(opts, report, () =>
        say(
          `Imported ${report.organizations} organization(s), ${report.integrations} integration(s), ${report.mappings} mapping(s), ${report.values} config value(s), ` +
            `${report.oauth_providers} OAuth provider(s) and ${report.oauth_tokens} OAuth token(s) from ${file}; ${report.secrets} secret(s) re-encrypted under key "${report.kid}".`,
        ),
      );
    });
}
