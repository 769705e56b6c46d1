import { type Command, Option } from "commander";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { NotFoundError, ValidationError } from "../../core/errors.js";
import { API_KEY_ROLES } from "../../core/types.js";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say, table, write } from "../output.js";

/** Loaded by the actions that use it, so defining the commands stays cheap (see main.ts). */
const services = () => import("../../services/api-keys.js");

export function registerKeys(program: Command): void {
  const cmd = program.command("keys").description("API keys for the HTTP API");

  cmd
    .command("create")
    .description("create an API key (shown once)")
    .addOption(new Option("--role <role>", "what the key may do").choices([...API_KEY_ROLES]).makeOptionMandatory())
    .option("--org <slug>", "organization (org_admin and workflow keys)")
    .option("--name <name>", "a label")
    .option("--json", "machine-readable output")
    .addOption(new Option("--quiet", "print only the key (for KEY=$(bifrost keys create … --quiet))").conflicts("json"))
    .action(async (opts: JsonFlag & { role: string; org?: string; name?: string; quiet?: boolean }) => {
      const res = await withBifrost(async (_bf, deps) =>
        (await services()).createApiKey(deps, { role: opts.role, ...(opts.org === undefined ? {} : { org: opts.org }), ...(opts.name === undefined ? {} : { name: opts.name }) }),
      );
      if (opts.quiet) {
        write(process.stdout, res.key);
        return;
      }
      emit(opts, { key: res.key, apiKey: res.apiKey, note: "Store the key now: it cannot be shown again." }, () => {
        say(`Created ${res.apiKey.role} key "${res.apiKey.name}"${res.apiKey.org ? ` for ${res.apiKey.org}` : ""} (id ${res.apiKey.id}, prefix ${res.apiKey.prefix}):\n`);
        say(`  ${res.key}\n`);
        say("Store it now: it cannot be shown again. Use it as 'Authorization: Bearer <key>'.");
      });
    });

  cmd
    .command("list")
    .description("list API keys (never the keys themselves)")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag) => {
      const all = await withBifrost(async (_bf, deps) => (await services()).listApiKeys(deps));
      emit(opts, { apiKeys: all }, () =>
        say(
          table(
            ["ID", "PREFIX", "ROLE", "ORG", "NAME", "CREATED", "LAST_USED", "STATUS"],
            all.map((k) => [k.id, k.prefix, k.role, k.org, k.name, k.createdAt, k.lastUsedAt, k.revokedAt ? `revoked ${k.revokedAt}` : "active"]),
            "No API keys. Create one with `bifrost keys create --role platform_admin`.",
          ),
        ),
      );
    });

  cmd
    .command("generate-keyring")
    .description("write a new secrets keyring (for BIFROST_KEYRING_FILE); does not touch the database")
    .requiredOption("--out <file>", "where to write it (mode 0600; refuses to overwrite)")
    .option("--kid <id>", "key id", "k1")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag & { out: string; kid: string }) => {
      const { generateKeyringJson, parseKeyring } = await import("../../crypto/keyring.js");
      const text = generateKeyringJson(opts.kid);
      parseKeyring(text, "--kid");
      try {
        writeFileSync(opts.out, text, { mode: 0o600, flag: "wx" });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ValidationError(`Cannot write ${opts.out}: ${code === "EEXIST" ? "the file exists (a keyring is never overwritten)" : (code ?? "unwritable")}.`, { path: "--out" });
      }
      emit(opts, { keyringFile: resolve(opts.out), kid: opts.kid }, () =>
        say(`Wrote a keyring with key "${opts.kid}" to ${resolve(opts.out)}. Start processes with BIFROST_KEYRING_FILE=${resolve(opts.out)}; keep it out of the data directory and its backups.`),
      );
    });

  cmd
    .command("revoke")
    .description("revoke an API key by id or prefix")
    .argument("<id-or-prefix>")
    .option("--json", "machine-readable output")
    .action(async (idOrPrefix: string, opts: JsonFlag) => {
      const ok = await withBifrost(async (_bf, deps) => (await services()).revokeApiKey(deps, idOrPrefix));
      if (!ok) throw new NotFoundError(`No active API key with id or prefix "${idOrPrefix}". List them with \`bifrost keys list\`.`, { key: idOrPrefix });
      emit(opts, { revoked: idOrPrefix }, () => say(`Revoked key ${idOrPrefix}.`));
    });
}
