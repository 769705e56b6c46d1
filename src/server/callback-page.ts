/**
 * The small HTML page the OAuth callback answers with. The browser arrives here from the provider,
 * so: every value is HTML-escaped, no script, no third-party resource, a strict CSP (the one inline
 * style is allowed by its hash), `Referrer-Policy: no-referrer` (the URL carries the one-time code)
 * and `Cache-Control: no-store`.
 */
import { createHash } from "node:crypto";
import type { FastifyReply } from "fastify";

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}" +
  "h1{font-size:1.4rem}.ok{color:#1a7f37}.fail{color:#cf222e}code{background:#f6f8fa;padding:0 .2rem}";

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

export const CALLBACK_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Escape for HTML text and attribute values. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Messages from the OAuth core have provider text already escaped as `&#NN;` entities: decode those
 * first so they are shown once, then escape everything (the result is escaped exactly once).
 */
function plain(text: string): string {
  return text.replace(/&#(\d{1,3});/g, (_m, n: string) => String.fromCharCode(Number(n)));
}

export interface CallbackOutcome {
  ok: boolean;
  integration: string;
  org?: string | null;
  /** Failure reason (never containing a code, state or token). */
  reason?: string;
  /** Stable error code, e.g. BIFROST_OAUTH_STATE_INVALID. */
  code?: string;
}

function renderCallbackPage(o: CallbackOutcome): string {
  const who = `${escapeHtml(o.integration)}${o.org ? ` for <code>${escapeHtml(o.org)}</code>` : ""}`;
  const title = o.ok ? "Connected" : "Connection failed";
  const body = o.ok
    ? `<h1 class="ok">Connected</h1><p>${who} is connected. You can close this window.</p>`
    : `<h1 class="fail">Connection failed</h1><p>${who} was not connected.</p><p>${escapeHtml(plain(o.reason ?? "Unknown error."))}</p>${
        o.code ? `<p><small>Error code: <code>${escapeHtml(o.code)}</code></small></p>` : ""
      }<p>Start the connection again from Bifrost (<code>bifrost oauth connect</code> or the API).</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>Bifrost: ${title}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

/** Send the page with the security headers. */
export function sendCallbackPage(reply: FastifyReply, status: number, o: CallbackOutcome): FastifyReply {
  return reply
    .code(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-store")
    .header("pragma", "no-cache")
    .header("content-security-policy", CALLBACK_CSP)
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    .send(renderCallbackPage(o));
}
