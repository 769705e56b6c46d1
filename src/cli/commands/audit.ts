import type { Command } from "commander";
import { withBifrost } from "../context.js";
import { emit, type JsonFlag, say, table } from "../output.js";

/** Loaded by the action, so defining the command stays cheap (see main.ts). */
const services = () => import("../../services/audit.js");

interface AuditOpts extends JsonFlag {
  org?: string;
  integration?: string;
  action?: string;
  since?: string;
  limit?: string;
  cursor?: string;
}

/** The actor column: the key's prefix and name, the local CLI, or the server's own background work. */
function actorText(a: { kind: string; key_prefix?: string; key_name?: string; via?: string }): string {
  if (a.kind === "api_key") return `key ${a.key_prefix ?? ""} "${a.key_name ?? ""}"${a.via && a.via !== "api" ? ` (${a.via})` : ""}`;
  return a.kind === "local_cli" ? "local CLI" : "system";
}

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("the audit trail, newest first: who changed or read which config, secret, mapping, provider, connection or key (names only, never values)")
    .option("--org <slug>", "only this organization's entries")
    .option("--integration <name>", "only entries about this integration")
    .option("--action <action>", "only this action (config.write, secret.write, secret.read, mapping.write, schema.write, provider.write, oauth.connect|refresh|disconnect, key.create|revoke, import, export.with_secrets, keyring.rotate|rewrap)")
    .option("--since <time>", "entries at or after: ISO 8601 time, or a duration back from now (30m, 24h, 7d)")
    .option("--limit <n>", "page size (default 100, max 500)")
    .option("--cursor <cursor>", "the next_cursor of the previous page")
    .option("--json", "machine-readable output")
    .action(async (opts: AuditOpts) => {
      const { listAudit } = await services();
      const limit = opts.limit === undefined ? undefined : /^\d{1,3}$/.test(opts.limit) ? Number(opts.limit) : Number.NaN;
      const page = await withBifrost(async (_bf, deps) =>
        listAudit(deps, { org: opts.org, integration: opts.integration, action: opts.action, since: opts.since, cursor: opts.cursor, limit }),
      );
      emit(opts, page, () => {
        say(
          table(
            ["AT", "ACTION", "ACTOR", "INTEGRATION", "ORG", "KEYS", "REQUEST"],
            page.entries.map((e) => [e.at, e.action, actorText(e.actor), e.target.integration, e.target.org, e.target.keys.join(","), e.execution_id ?? e.request_id]),
            "No audit entries match.",
          ),
        );
        if (page.next_cursor) say(`\nMore: bifrost audit --cursor ${page.next_cursor} (with the same filters)`);
      });
    });
}
