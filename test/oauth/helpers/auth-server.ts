/**
 * An in-process OAuth authorization server for tests: oidc-provider 9 on 127.0.0.1 with
 * refresh-token rotation and reuse detection, PKCE required, headless login/consent, and counters
 * of the token requests it answered. Faults are injected by middleware registered before callback().
 */
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { finishConsent } from "../../../src/host/demo/auth-server.js";

export const CLIENT_ID = "bifrost-test-client";
export const CLIENT_SECRET = "test-secret-+/:%-0123456789abcdef";
export const PUBLIC_URL = "http://127.0.0.1:9";

type Fault = null | "html500" | "html200" | "hang" | "json503" | "error200";

export interface AuthServer {
  issuer: string;
  provider: Provider;
  /** Token requests answered, by grant_type. */
  counts: Record<string, number>;
  /** Set to make every /token request fail in this way. */
  fault: Fault;
  /** Next interaction: approve (default) or deny with this description. */
  deny: string | null;
  /** Drop refresh_token from refresh responses. */
  dropRefreshToken: boolean;
  tokenRequests(grant: string): number;
  reset(): void;
  close(): Promise<void>;
}

// oidc-provider's Koa context is untyped here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctx = any;

export async function startAuthServer(opts: { integrations: string[]; accessTtl?: number; clientCredentialsTtl?: number } ): Promise<AuthServer> {
  const server = http.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: opts.integrations.map((n) => `${PUBLIC_URL}/api/oauth/callback/${n}`),
        response_types: ["code"],
        grant_types: ["authorization_code", "refresh_token", "client_credentials"],
        token_endpoint_auth_method: "client_secret_basic",
        scope: "openid offline_access api:read api:write",
      },
    ],
    cookies: { keys: ["test-cookie-key-1"] },
    scopes: ["openid", "offline_access", "api:read", "api:write"],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, revocation: { enabled: true }, introspection: { enabled: true } },
    issueRefreshToken: async (_ctx: Ctx, client: Ctx) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    ttl: { AccessToken: opts.accessTtl ?? 3600, ClientCredentials: opts.clientCredentialsTtl ?? 3600, AuthorizationCode: 60, RefreshToken: 3600, Grant: 3600, Interaction: 600, Session: 600, IdToken: 600 },
    interactions: { url: (_ctx: Ctx, interaction: Ctx) => `/interaction/${interaction.uid}` },
    renderError: async (ctx: Ctx, out: Ctx) => {
      ctx.type = "json";
      ctx.body = out;
    },
  } as never);
  provider.proxy = false;
  const as: AuthServer = {
    issuer,
    provider,
    counts: {},
    fault: null,
    deny: null,
    dropRefreshToken: false,
    tokenRequests: (g) => as.counts[g] ?? 0,
    reset() {
      as.counts = {};
      as.fault = null;
      as.deny = null;
      as.dropRefreshToken = false;
    },
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
  provider.use(async (ctx: Ctx, next: () => Promise<void>) => {
    if (ctx.path === "/token" && as.fault) {
      as.counts.fault = (as.counts.fault ?? 0) + 1;
      switch (as.fault) {
        case "hang":
          await new Promise((r) => setTimeout(r, 5_000));
          ctx.status = 504;
          ctx.body = "late";
          return;
        case "html500":
          ctx.status = 500;
          ctx.type = "html";
          ctx.body = "<html><body>Internal error</body></html>";
          return;
        case "html200":
          ctx.status = 200;
          ctx.type = "html";
          ctx.body = "<html><body>Please log in</body></html>";
          return;
        case "json503":
          ctx.status = 503;
          ctx.type = "json";
          ctx.body = { error: "temporarily_unavailable" };
          return;
        case "error200":
          ctx.status = 200;
          ctx.type = "json";
          ctx.body = { ok: false, error: "invalid_auth" };
          return;
      }
    }
    await next();
    if (ctx.path === "/token") {
      const grant = String(ctx.oidc?.params?.grant_type ?? "unknown");
      as.counts[grant] = (as.counts[grant] ?? 0) + 1;
      if (as.dropRefreshToken && grant === "refresh_token" && ctx.status === 200 && ctx.body && typeof ctx.body === "object") {
        delete ctx.body.refresh_token;
      }
    }
  });
  const callback = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith("/interaction/")) void interact(as, req, res);
    else callback(req, res);
  });
  return as;
}

async function interact(as: AuthServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const provider = as.provider;
  try {
    const interaction = await provider.interactionDetails(req, res);
    const { prompt } = interaction;
    if (as.deny !== null) {
      await provider.interactionFinished(req, res, { error: "access_denied", error_description: as.deny }, { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name === "login") {
      await provider.interactionFinished(req, res, { login: { accountId: "user-1" } }, { mergeWithLastSubmission: false });
      return;
    }
    // oidc-provider's own types and the narrow interface the demo declares differ only in detail.
    await finishConsent(provider as unknown as Parameters<typeof finishConsent>[0], req, res, interaction as unknown as Parameters<typeof finishConsent>[3]);
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
}

/**
 * Play the browser: follow /auth → /interaction → /auth/:uid with a cookie jar until the AS
 * redirects to the redirect URI; return that URL (code, state, iss) without calling it.
 */
export async function driveAuthorization(authorizationUrl: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  for (let i = 0; i < 10; i++) {
    const res = await fetch(url, { redirect: "manual", headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = (pair ?? "").indexOf("=");
      if (eq > 0) jar.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
    }
    const loc = res.headers.get("location");
    await res.arrayBuffer();
    if (!loc) throw new Error(`authorization stopped at ${res.status} without a redirect`);
    const next = new URL(loc, url);
    if (next.href.startsWith(PUBLIC_URL)) return next;
    url = next.href;
  }
  throw new Error("too many redirects");
}
