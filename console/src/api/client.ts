/**
 * The console's one HTTP client: openapi-fetch typed by the server's OpenAPI document
 * (schema.gen.ts, generated before each build), same-origin cookie session, the CSRF header on
 * state-changing calls, error envelope → ApiError, and a `bifrost:signed-out` event on 401.
 */
import createClient, { type Middleware } from "openapi-fetch";
import { ApiError, errorFromResponse } from "./errors.js";
import type { paths } from "./schema.gen.js";

let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== "GET" && csrfToken) request.headers.set("x-csrf-token", csrfToken);
    return request;
  },
};

export const client = createClient<paths>({ credentials: "same-origin", headers: { accept: "application/json" } });
client.use(csrf);

interface Outcome<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

async function settle<D>(pending: Promise<Outcome<D>>): Promise<D> {
  let out: Outcome<D>;
  try {
    out = await pending;
  } catch {
    throw new ApiError(0, "NETWORK", "The server could not be reached.");
  }
  const { response } = out;
  if (!response.ok) {
    const err = errorFromResponse(response.status, out.error);
    if (response.status === 401 && !new URL(response.url, window.location.href).pathname.startsWith("/api/session")) window.dispatchEvent(new CustomEvent("bifrost:signed-out"));
    throw err;
  }
  return out.data as D;
}

/** The success body of a call whose response the OpenAPI document describes. */
export function ok<D>(pending: Promise<Outcome<D>>): Promise<D> {
  return settle(pending);
}

/**
 * The success body of a call whose response the OpenAPI document does not describe yet (the route
 * declares no response schema): typed by hand with `T` from ./types. Request paths, parameters and
 * bodies are still checked against the document.
 */
export function okAs<T>(pending: Promise<Outcome<unknown>>): Promise<T> {
  return settle(pending) as Promise<T>;
}

/**
 * Every row of a paginated list (pages of 500, following next_cursor to the last page). For pages
 * that still show whole lists; large lists page in the UI instead.
 */
export async function allPages<R>(key: string, fetchPage: (query: { limit: string; cursor?: string }) => Promise<Outcome<unknown>>): Promise<R[]> {
  const rows: R[] = [];
  let cursor: string | undefined;
  do {
    const body = (await settle(fetchPage({ limit: "500", ...(cursor ? { cursor } : {}) }))) as Record<string, unknown> & { next_cursor?: string | null };
    rows.push(...((body[key] as R[] | undefined) ?? []));
    cursor = body.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return rows;
}
