/**
 * One redactor for logs, error messages and anything else that leaves the process.
 */

/** Object keys whose values are always replaced in logs. */
const SENSITIVE_KEYS = [
  "access_token",
  "accessToken",
  "refresh_token",
  "refreshToken",
  "id_token",
  "client_secret",
  "clientSecret",
  "code_verifier",
  "password",
  "api_key",
  "apiKey",
  "authorization",
  "cookie",
  "secret",
  "key",
  "token",
] as const;

/** Pino redact paths: the keys above at the top level and one or two levels down, plus headers. */
export const LOG_REDACT_PATHS: string[] = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  ...SENSITIVE_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const QUERY_SECRETS = /([?&](?:code|access_token|refresh_token|state|client_secret|api_key)=)[^&#\s]+/gi;
const API_KEYS = /\bbfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\b/g;

/** Values shorter than this are never searched for (they would match ordinary words). */
const MIN_SECRET_LENGTH = 4;
/** Values at least this long are also searched for as base64 fragments inside longer base64 text. */
const MIN_FRAGMENT_SOURCE = 12;

const lowerHex = (s: string): string => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

function base64Forms(bytes: Buffer): string[] {
  const std = bytes.toString("base64");
  const url = bytes.toString("base64url");
  return [std, std.replace(/=+$/, ""), url];
}

/**
 * The base64 text a value becomes inside any longer base64 text (an `Authorization: Basic` value of
 * `id:secret`, a base64 JSON blob): for each of the three byte alignments, the characters of the groups
 * made only of the value's own bytes, which do not depend on what surrounds it. Standard and url alphabets.
 */
function base64Fragments(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const out: string[] = [];
  for (const pad of [0, 1, 2]) {
    const buf = Buffer.concat([Buffer.alloc(pad), bytes]);
    const first = pad === 0 ? 0 : 1;
    const end = Math.floor(buf.length / 3);
    if (end - first < 2) continue;
    const frag = buf.toString("base64").slice(first * 4, end * 4);
    out.push(frag, frag.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return out;
}

/**
 * Every textual form a secret value may come back in: as is; URL-encoded (`encodeURIComponent`, form
 * encoding with `+` for space, either hex case); JSON-escaped (also with `\/`); HTML-escaped; base64 and
 * base64url of the value, and (for values of 12 characters or more) the fragments it leaves inside a
 * longer base64 text. Values shorter than 4 characters give none.
 */
function secretVariants(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set<string>([value]);
  const uri = encodeURIComponent(value);
  const form = new URLSearchParams([["", value]]).toString().slice(1);
  for (const f of [uri, form]) forms.add(f).add(lowerHex(f));
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json).add(json.replace(/\//g, "\\/"));
  forms.add(value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string));
  forms.add(value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`));
  for (const b of base64Forms(Buffer.from(value, "utf8"))) forms.add(b);
  if (value.length >= MIN_FRAGMENT_SOURCE) for (const f of base64Fragments(value)) forms.add(f);
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** Every form of every value (see secretVariants), longest first: compute once, apply with redactForms. */
export function redactionForms(values: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const v of values) for (const f of secretVariants(v)) forms.add(f);
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replace each of `forms` (longest first, as redactionForms returns them). */
export function redactForms(text: string, forms: readonly string[]): string {
  let out = text;
  for (const f of forms) {
    if (out.includes(f)) out = out.split(f).join("[REDACTED]");
  }
  return out;
}

/** Replace every form (see secretVariants) of every value, longest first. */
function redactValues(text: string, values: Iterable<string>): string {
  return redactForms(text, redactionForms(values));
}

/** The generic credential patterns only: bearer/basic credentials, sensitive query values, API keys. */
export function redactPatterns(text: string): string {
  return text.replace(BEARER, "$1 [REDACTED]").replace(QUERY_SECRETS, "$1[REDACTED]").replace(API_KEYS, "bfk_[REDACTED]");
}

/** Runs of at least this many characters copied from a long sent value count as an echo of it. */
const PARTIAL_RUN = 12;

/** Every run of 12 characters of each value of 16 characters or more, as is or URL-encoded: compute once, apply with redactPartialEchoes. */
export function partialEchoWindows(values: Iterable<string>): Set<string> {
  const windows = new Set<string>();
  for (const v of values) {
    if (v.length < 16) continue;
    for (const form of new Set([v, encodeURIComponent(v)])) {
      for (let i = 0; i + PARTIAL_RUN <= form.length; i++) windows.add(form.slice(i, i + PARTIAL_RUN));
    }
  }
  return windows;
}

/**
 * Redact partial echoes: any run of 12 or more characters that also occurs in one of the values (of 16
 * characters or more), as is or URL-encoded (`windows`, as partialEchoWindows returns them). A provider
 * that quotes the first part of a token we sent ("invalid refresh token 'abcdef0123456789…'") leaves no
 * piece of that length behind.
 */
export function redactPartialEchoes(text: string, windows: ReadonlySet<string>): string {
  if (windows.size === 0 || text.length < PARTIAL_RUN) return text;
  const hit = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + PARTIAL_RUN <= text.length; i++) {
    if (windows.has(text.slice(i, i + PARTIAL_RUN))) {
      hit.fill(1, i, i + PARTIAL_RUN);
      any = true;
    }
  }
  if (!any) return text;
  let out = "";
  for (let i = 0; i < text.length; ) {
    if (hit[i]) {
      while (i < text.length && hit[i]) i++;
      out += "[REDACTED]";
    } else {
      out += text[i++];
    }
  }
  return out;
}

/** Replace known secret values (in every form, see secretVariants), bearer/basic credentials, sensitive query values and API keys. */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  return redactPatterns(redactValues(text, secrets));
}
