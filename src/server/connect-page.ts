/**
 * The public connect-link page (`/connect/{token}`): what a customer's admin sees. It shows only the
 * integration's display name and the organization's name, and a form whose POST starts the flow
 * (a GET never consumes the link: mail scanners prefetch URLs). No script, no third-party resource,
 * a strict CSP (the one inline style allowed by its hash), `Referrer-Policy: no-referrer` (the URL
 * carries the link's token), `Cache-Control: no-store`, no framing.
 */
import { createHash } from "node:crypto";
import type { FastifyReply } from "fastify";

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}" +
  "h1{font-size:1.4rem}.fail{color:#cf222e}button{font-size:1rem;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff}";

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

/**
 * `form-action` also governs the redirect that follows the form POST (to the provider's authorization
 * endpoint, not known before the flow starts), so it allows https (and http loopback for local providers).
 */
function connectCsp(allowHttpLoopback: boolean): string {
  const form = `'self' https:${allowHttpLoopback ? " http://127.0.0.1:* http://localhost:*" : ""}`;
  return `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'none'; script-src 'none'; base-uri 'none'; form-action ${form}; frame-ancestors 'none'`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export type ConnectPage = { kind: "ready"; integration: string; organization: string } | { kind: "error"; title: string; message: string; code: string };

function render(p: ConnectPage): string {
  const body =
    p.kind === "ready"
      ? `<h1>Connect ${escapeHtml(p.integration)}</h1><p>You were invited to connect <strong>${escapeHtml(p.integration)}</strong> for <strong>${escapeHtml(p.organization)}</strong>.</p>` +
        `<p>Continuing takes you to ${escapeHtml(p.integration)} to sign in and approve access. This link works once.</p>` +
        `<form method="post"><button type="submit">Continue to ${escapeHtml(p.integration)}</button></form>`
      : `<h1 class="fail">${escapeHtml(p.title)}</h1><p>${escapeHtml(p.message)}</p><p><small>Error code: <code>${escapeHtml(p.code)}</code></small></p>`;
  const title = p.kind === "ready" ? `Connect ${p.integration}` : p.title;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>Bifrost: ${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

function secure(reply: FastifyReply, allowHttpLoopback: boolean): FastifyReply {
  return reply
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-store")
    .header("pragma", "no-cache")
    .header("content-security-policy", connectCsp(allowHttpLoopback))
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    .header("x-robots-tag", "noindex");
}

export function sendConnectPage(reply: FastifyReply, status: number, page: ConnectPage, allowHttpLoopback: boolean): FastifyReply {
  return secure(reply, allowHttpLoopback).code(status).header("content-type", "text/html; charset=utf-8").send(render(page));
}

/** 303 to the provider's authorization URL (the browser follows it with a GET). */
export function redirectToProvider(reply: FastifyReply, url: string, allowHttpLoopback: boolean): FastifyReply {
  return secure(reply, allowHttpLoopback).code(303).header("location", url).send();
}
