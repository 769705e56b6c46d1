/**
 * The demo's authorization server: oidc-provider (a devDependency, loaded with importEsm) on a loopback
 * port inside the process, so the console's Connect and Refresh run the real OAuth flows against it.
 * Refresh tokens rotate with reuse detection, PKCE is required, login and consent are approved headlessly
 * (the demo's "user" is whoever follows the authorization URL). Paths under `/t/<tenant>/` reach the same
 * endpoints, for providers whose URLs are templated by tenant. State is in memory: it ends with the process.
 */
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash, generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { importEsm } from "../../core/esm-import.js";
import { DemoUnavailableError } from "../../core/errors.js";

export interface DemoClient {
  clientId: string;
  clientSecret: string;
  /** Callback URLs (authorization-code clients). */
  redirectUris: string[];
  grantTypes: Array<"authorization_code" | "refresh_token" | "client_credentials">;
  authMethod: "client_secret_basic" | "client_secret_post";
  /** Fields added to each token response of this client (a provider that reports its tenant there). */
  tokenFields?: () => Record<string, string>;
}

/** Tokens minted for a seeded connection: real, so the AS accepts the refresh token later. */
interface MintedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds the access token is valid for at the AS. */
  expiresIn: number;
}

export interface DemoAuthServer {
  issuer: string;
  /** Token requests answered, by grant_type. */
  tokenRequests(grant: string): number;
  /** Issue an access + refresh token for `clientId` as if `accountId` had consented to `scope`. */
  mint(clientId: string, accountId: string, scope: string, accessTtlSeconds: number): Promise<MintedTokens>;
  close(): Promise<void>;
}

// The part of oidc-provider's API used here (it ships no type declarations).
interface OidcToken {
  save(): Promise<string>;
}
interface OidcGrant extends OidcToken {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
}
interface OidcProvider {
  proxy: boolean;
  use(mw: (ctx: KoaCtx, next: () => Promise<void>) => Promise<void>): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ prompt: { name: string; details: Record<string, unknown> }; params: Record<string, unknown>; session?: { accountId?: string }; grantId?: string }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts: { mergeWithLastSubmission: boolean }): Promise<void>;
  Grant: { new (init: Record<string, unknown>): OidcGrant; find(id: string): Promise<OidcGrant | undefined> };
  Client: { find(id: string): Promise<unknown> };
  AccessToken: new (init: Record<string, unknown>) => OidcToken;
  RefreshToken: new (init: Record<string, unknown>) => OidcToken;
}
interface KoaCtx {
  path: string;
  status: number;
  body: unknown;
  oidc?: { params?: Record<string, unknown>; client?: { clientId: string } };
}
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => OidcProvider;

/**
 * oidc-provider's storage for the demo: a Map without the size cap of its default in-memory adapter
 * (an LRU of 1,000 entries, which would forget seeded refresh tokens of a large demo). Entries expire by
 * their own lifetime; a grant's tokens are indexed so reuse detection can revoke them all.
 */
class DemoStorage {
  readonly #entries = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  readonly #grants = new Map<string, Set<string>>();
  readonly #uids = new Map<string, string>();

  adapter(model: string) {
    const key = (id: string) => `${model}:${id}`;
    const get = (k: string) => {
      const e = this.#entries.get(k);
      if (e && e.expiresAt <= Date.now()) this.#entries.delete(k);
      return e && e.expiresAt > Date.now() ? e.payload : undefined;
    };
    return {
      upsert: async (id: string, payload: Record<string, unknown>, expiresIn?: number) => {
        const k = key(id);
        this.#entries.set(k, { payload, expiresAt: typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Infinity });
        if (typeof payload.grantId === "string") {
          const members = this.#grants.get(payload.grantId) ?? new Set<string>();
          members.add(k);
          this.#grants.set(payload.grantId, members);
        }
        if (model === "Session" && typeof payload.uid === "string") this.#uids.set(payload.uid, id);
      },
      find: async (id: string) => get(key(id)),
      findByUid: async (uid: string) => {
        const id = this.#uids.get(uid);
        return id === undefined ? undefined : get(key(id));
      },
      findByUserCode: async () => undefined,
      consume: async (id: string) => {
        const p = get(key(id));
        if (p) p.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id: string) => void this.#entries.delete(key(id)),
      revokeByGrantId: async (grantId: string) => {
        for (const k of this.#grants.get(grantId) ?? []) this.#entries.delete(k);
        this.#grants.delete(grantId);
      },
    };
  }
}

const MISSING = "bifrost dev --demo needs the development dependencies (it runs its authorization server on oidc-provider): npm ci in a checkout.";

/** Load oidc-provider (`specifier` is for the test of a missing install); a missing module is BIFROST_DEMO_UNAVAILABLE. */
export async function loadOidcProvider(specifier = "oidc-provider"): Promise<ProviderClass> {
  // oidc-provider 9 prints a notice on Node 20 ("Unsupported runtime"); it runs fine there (docs/decisions.md).
  const warn = console.warn;
  try {
    console.warn = (...args: unknown[]) => {
      if (!String(args[0] ?? "").includes("Unsupported runtime")) warn(...args);
    };
    return (await importEsm<{ default: ProviderClass }>(specifier)).default;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") throw new DemoUnavailableError(MISSING, { module: specifier });
    throw err;
  } finally {
    console.warn = warn;
  }
}

/** A stable tenant id (UUID shape) for a demo account: the `tid` claim of its id_token. */
function demoTenantId(accountId: string): string {
  const h = createHash("sha256").update(`demo-tenant:${accountId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function startDemoAuthServer(opts: { clients: DemoClient[]; scopes: string[]; host?: string; port?: number }): Promise<DemoAuthServer> {
  const Provider = await loadOidcProvider();
  const server = http.createServer();
  server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1");
  await once(server, "listening");
  const issuer = `http://${opts.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;
  const day = 86_400;
  const storage = new DemoStorage();
  // The id_token signing key of this run (RS256, oidc-provider's default algorithm).
  const { privateKey } = await promisify(generateKeyPair)("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: randomBytes(8).toString("hex"), use: "sig" };
  const provider = new Provider(issuer, {
    adapter: (model: string) => storage.adapter(model),
    jwks: { keys: [jwk] },
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      response_types: c.grantTypes.includes("authorization_code") ? ["code"] : [],
      grant_types: c.grantTypes,
      token_endpoint_auth_method: c.authMethod,
      scope: opts.scopes.join(" "),
    })),
    cookies: { keys: [randomBytes(24).toString("base64url")] },
    scopes: opts.scopes,
    claims: { openid: ["sub", "tid"] },
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub, tid: demoTenantId(sub) }) }),
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, revocation: { enabled: true } },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, ClientCredentials: 3600, AuthorizationCode: 60, RefreshToken: 180 * day, Grant: 180 * day, Interaction: 600, Session: 600, IdToken: 3600 },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: async (ctx: KoaCtx, out: unknown) => {
      (ctx as KoaCtx & { type: string }).type = "json";
      ctx.body = out;
    },
  });
  provider.proxy = false;
  const counts: Record<string, number> = {};
  const extraFields = new Map(opts.clients.filter((c) => c.tokenFields).map((c) => [c.clientId, c.tokenFields as () => Record<string, string>]));
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== "/token") return;
    const grant = String(ctx.oidc?.params?.grant_type ?? "unknown");
    counts[grant] = (counts[grant] ?? 0) + 1;
    const extra = extraFields.get(ctx.oidc?.client?.clientId ?? "");
    if (extra && ctx.status === 200 && ctx.body && typeof ctx.body === "object") Object.assign(ctx.body, extra());
  });
  const callback = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    // /t/<tenant>/token → /token: one AS answers for every tenant of a tenant-templated provider.
    req.url = (req.url ?? "/").replace(/^\/t\/[^/?]+(?=\/)/, "");
    if (req.url.startsWith("/interaction/")) void approve(provider, req, res);
    else callback(req, res);
  });
  return {
    issuer,
    tokenRequests: (g) => counts[g] ?? 0,
    async mint(clientId, accountId, scope, accessTtlSeconds) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`demo authorization server: no client ${clientId}`);
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope(scope);
      const grantId = await grant.save();
      const common = { accountId, client, grantId, gty: "authorization_code", scope };
      const refreshToken = await new provider.RefreshToken(common).save();
      const accessToken = await new provider.AccessToken({ ...common, expiresIn: accessTtlSeconds }).save();
      return { accessToken, refreshToken, expiresIn: accessTtlSeconds };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * Consent to everything the prompt says is missing (OIDC scopes and claims, resource scopes) on the
 * interaction's grant (a new one when it has none), and finish the interaction with it.
 */
export async function finishConsent(
  provider: Pick<OidcProvider, "Grant" | "interactionFinished">,
  req: IncomingMessage,
  res: ServerResponse,
  { prompt, params, session, grantId }: Awaited<ReturnType<OidcProvider["interactionDetails"]>>,
): Promise<void> {
  const grant = (grantId ? await provider.Grant.find(grantId) : undefined) ?? new provider.Grant({ accountId: session?.accountId, clientId: params.client_id });
  const details = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(" "));
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

/** Headless login and consent: every authorization request is approved for a fresh demo account. */
async function approve(provider: OidcProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.prompt.name === "login") {
      await provider.interactionFinished(req, res, { login: { accountId: `demo-user-${randomBytes(4).toString("hex")}` } }, { mergeWithLastSubmission: false });
      return;
    }
    await finishConsent(provider, req, res, interaction);
  } catch (err) {
    res.statusCode = 500;
    res.end(`demo authorization server: ${(err as Error).message}`);
  }
}
