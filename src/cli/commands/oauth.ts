import type { Command } from "commander";
import { ValidationError } from "../../core/errors.js";
import type { OAuthConnectionView } from "../../oauth/service.js";
import { OAuthNoProviderError } from "../../oauth/errors.js";
import { readStructuredArg, withBifrost } from "../context.js";
import { emit, type JsonFlag, say, table } from "../output.js";

/** Loaded by the actions that use them, so defining the commands stays cheap (see main.ts). */
const services = () => import("../../oauth/service.js");
const views = () => import("../../server/views.js");

type OrgFlag = JsonFlag & { org?: string };

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function substitute(value: unknown): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_REF, (_m, name: string | undefined) => {
      if (name === undefined) return "${";
      const v = process.env[name];
      if (v === undefined) throw new ValidationError(`--file: environment variable ${name} is not set (referenced as \${${name}}).`, { variable: name });
      return v;
    });
  }
  if (Array.isArray(value)) return value.map(substitute);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: substitute(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/** `--file`: inline JSON or a YAML/JSON file holding the block or `{ oauth: {...} }`; `${ENV}` substituted. */
function readProviderArg(arg: string): unknown {
  return substitute(readStructuredArg(arg, "--file", "oauth"));
}

function statusTable(rows: OAuthConnectionView[]): string {
  return table(
    ["INTEGRATION", "ORG", "STATE", "EXPIRES", "LAST REFRESH", "LAST ERROR", "REFRESH TOKEN"],
    rows.map((c) => [
      c.integration,
      c.org ?? "(integration)",
      c.state + (c.refreshInterrupted ? " (interrupted)" : ""),
      c.expiresAt,
      c.lastRefreshAt,
      c.lastError,
      c.hasRefreshToken ? "yes" : "no",
    ]),
    "No OAuth connections (no integration has an OAuth provider).",
  );
}

export function registerOAuth(program: Command): void {
  const oauth = program.command("oauth").description("OAuth providers and connections: attach a provider, connect, status, refresh, disconnect");

  const provider = oauth.command("provider").description("the OAuth provider attached to an integration");

  provider
    .command("set")
    .description("attach or replace an integration's OAuth provider (the bifrost.yaml `oauth:` block; ${ENV_VAR} substituted)")
    .argument("<integration>")
    .requiredOption("--file <file-or-json>", "YAML/JSON file with the block (or { oauth: … }), or inline JSON")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: JsonFlag & { file: string }) => {
      const input = readProviderArg(opts.file);
      const res = await withBifrost(async (_bf, deps) => {
        const before = await (await services()).getOAuthProvider(deps, integration);
        return { view: await (await services()).setOAuthProvider(deps, integration, input), created: before === null };
      });
      emit(opts, { integration, oauth: res.view, created: res.created }, () =>
        say(`${res.created ? "Attached" : "Updated"} the OAuth provider of ${integration} (${res.view.flow}, client secret ${res.view.client_secret.fingerprint}).`),
      );
    });

  provider
    .command("show")
    .description("show an integration's OAuth provider (client secret as a fingerprint)")
    .argument("<integration>")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: JsonFlag) => {
      const view = await withBifrost(async (_bf, deps) => {
        const v = await (await services()).getOAuthProvider(deps, integration);
        if (!v) throw new OAuthNoProviderError(integration);
        return v;
      });
      emit(opts, { integration, oauth: view }, () => {
        const rows: Array<[string, string]> = [];
        for (const [k, v] of Object.entries(view)) {
          if (k === "client_secret") rows.push([k, `set (${view.client_secret.fingerprint})`]);
          else rows.push([k, typeof v === "string" ? v : JSON.stringify(v)]);
        }
        say(table(["FIELD", "VALUE"], rows));
      });
    });

  provider
    .command("remove")
    .description("detach the OAuth provider (its stored tokens are deleted; run `oauth disconnect` first to revoke them)")
    .argument("<integration>")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: JsonFlag) => {
      const removed = await withBifrost(async (_bf, deps) => (await services()).removeOAuthProvider(deps, integration));
      if (!removed) throw new OAuthNoProviderError(integration);
      emit(opts, { integration, removed }, () => say(`Removed the OAuth provider of ${integration}.`));
    });

  oauth
    .command("connect")
    .description("start an authorization-code flow and print the provider's authorization URL (open it in a browser; valid 10 minutes)")
    .argument("<integration>")
    .option("--org <slug>", "connect for this organization's mapping (default: the integration level)")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: OrgFlag) => {
      // The CLI has no API key: the flow's initiator is null.
      const started = await withBifrost(async (_bf, deps) => (await services()).startAuthorization(deps, { integration, org: opts.org ?? null, initiatorKeyId: null }));
      emit(opts, { authorization_url: started.authorizationUrl, state_expires_at: started.expiresAt, redirect_uri: started.redirectUri }, () => {
        say(`Open this URL to connect ${integration}${opts.org ? ` for ${opts.org}` : ""} (valid until ${started.expiresAt}):\n`);
        say(started.authorizationUrl);
        say(`\nThe provider redirects to ${started.redirectUri}; the Bifrost server must be reachable there.`);
      });
    });

  oauth
    .command("link")
    .description("create a one-time connect link for an organization: a URL (under BIFROST_PUBLIC_URL) to send to the customer's admin; no API key needed to open it")
    .argument("<integration>")
    .requiredOption("--org <slug>", "the organization the link connects")
    .option("--expires <duration>", "how long the link lasts: 30m, 12h, 7d (default 7d, at most 30d)")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: OrgFlag & { expires?: string }) => {
      // The CLI has no API key: the link's creator is null ("cli"), treated like a platform admin.
      const link = await withBifrost(async (_bf, deps) =>
        (await services()).createConnectLink(deps, { integration, org: opts.org as string, createdBy: null, ...(opts.expires !== undefined ? { expires: opts.expires } : {}) }),
      );
      emit(opts, { url: link.url, expires_at: link.expiresAt, id: link.id, integration: link.integration, org: link.org }, () => {
        say(`Send this link to the admin of ${link.org} to connect ${integration} (works once, until ${link.expiresAt}):\n`);
        say(link.url);
        say(`\nLink id ${link.id} (revoke with \`bifrost oauth links revoke ${link.id}\`). The URL is shown only now.`);
      });
    });

  const links = oauth.command("links").description("connect links: list and revoke");

  links
    .command("list")
    .description("an integration's connect links, newest first (status, never the token)")
    .argument("<integration>")
    .option("--org <slug>", "only this organization's links")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: OrgFlag) => {
      const rows = await withBifrost(async (_bf, deps) => (await services()).listConnectLinks(deps, { integration, org: opts.org ?? null }));
      emit(opts, { links: rows.map((await views()).connectLinkOut) }, () =>
        say(table(["ID", "ORG", "STATUS", "CREATED BY", "CREATED", "EXPIRES"], rows.map((l) => [l.id, l.org, l.status, l.createdBy, l.createdAt, l.expiresAt]), "No connect links.")),
      );
    });

  links
    .command("revoke")
    .description("revoke an unused connect link")
    .argument("<id>")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: JsonFlag) => {
      const link = await withBifrost(async (_bf, deps) => (await services()).revokeConnectLink(deps, { id }));
      emit(opts, { link: (await views()).connectLinkOut(link) }, () => say(`Revoked connect link ${link.id} (${link.integration} for ${link.org}).`));
    });

  oauth
    .command("status")
    .description("connection health: state, expiry, last refresh, last error, refresh token yes/no (never a token)")
    .argument("[integration]")
    .option("--org <slug>", "only this organization's connections")
    .option("--json", "machine-readable output")
    .action(async (integration: string | undefined, opts: OrgFlag) => {
      const rows = await withBifrost(async (_bf, deps) => (await services()).getOAuthStatus(deps, { ...(integration ? { integration } : {}), ...(opts.org ? { org: opts.org } : {}) }));
      emit(opts, { connections: rows.map((await views()).oauthConnectionOut) }, () => say(statusTable(rows)));
    });

  oauth
    .command("refresh")
    .description("force a token refresh now (client credentials: mint a new token)")
    .argument("<integration>")
    .option("--org <slug>", "the organization's connection (default: the integration level)")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: OrgFlag) => {
      const c = await withBifrost(async (_bf, deps) => (await services()).refreshConnection(deps, { integration, org: opts.org ?? null }));
      emit(opts, { connection: (await views()).oauthConnectionOut(c) }, () => say(`Refreshed ${integration}${c.org ? ` for ${c.org}` : ""}: ${c.state}, expires ${c.expiresAt ?? "never"}.`));
    });

  oauth
    .command("disconnect")
    .description("remove the stored token (revoking it at the provider when it supports RFC 7009)")
    .argument("<integration>")
    .option("--org <slug>", "the organization's connection (default: the integration level)")
    .option("--json", "machine-readable output")
    .action(async (integration: string, opts: OrgFlag) => {
      const res = await withBifrost(async (_bf, deps) => (await services()).disconnect(deps, { integration, org: opts.org ?? null }));
      emit(opts, { integration, org: opts.org ?? null, disconnected: res.disconnected, revoked: res.revoked, revocation_error: res.revocationError }, () => {
        if (!res.disconnected) say(`${integration}${opts.org ? ` for ${opts.org}` : ""} was not connected; nothing to do.`);
        else say(`Disconnected ${integration}${opts.org ? ` for ${opts.org}` : ""}${res.revoked ? " (token revoked at the provider)" : res.revocationError ? ` (revocation failed: ${res.revocationError})` : ""}.`);
      });
    });
}

export function registerEvents(program: Command): void {
  program
    .command("events")
    .description("list OAuth events (connected, refreshed, refresh_failed, needs_reauth, disconnected, link.created|used|expired|revoked), oldest first")
    .option("--integration <name>", "only this integration")
    .option("--org <slug>", "only this organization")
    .option("--type <type>", "only this event type")
    .option("--after <timestamp>", "only events created after this ISO timestamp")
    .option("--limit <n>", "at most this many (default 100, max 1000)")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag & { integration?: string; org?: string; type?: string; after?: string; limit?: string }) => {
      let limit: number | undefined;
      if (opts.limit !== undefined) {
        if (!/^\d{1,4}$/.test(opts.limit) || Number(opts.limit) < 1) throw new ValidationError("--limit must be a number from 1 to 1000.", { path: "--limit" });
        limit = Number(opts.limit);
      }
      const events = await withBifrost(async (_bf, deps) =>
        (await services()).listOAuthEvents(deps, {
          ...(opts.integration ? { integration: opts.integration } : {}),
          ...(opts.org ? { org: opts.org } : {}),
          ...(opts.type ? { type: opts.type } : {}),
          ...(opts.after ? { after: opts.after } : {}),
          ...(limit !== undefined ? { limit } : {}),
        }),
      );
      emit(opts, { events: events.map((await views()).oauthEventOut) }, () =>
        say(table(["TIME", "TYPE", "INTEGRATION", "ORG", "DETAILS"], events.map((e) => [e.createdAt, e.type, e.integration, e.org, Object.keys(e.payload).length ? JSON.stringify(e.payload) : ""]), "No events.")),
      );
    });
}
