import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { BifrostError, type ErrorDetails, NotFoundError, ValidationError } from "../core/errors.js";
import { redactText } from "../crypto/redact.js";

/** Largest accepted request body: big enough that a 1 MB config value reaches the config engine's 64 KiB check. */
export const BODY_LIMIT = 2 * 1024 * 1024;

/** The one error shape every response uses. */
export interface ErrorEnvelope {
  statusCode: number;
  code: string;
  message: string;
  details?: ErrorDetails;
}

/** Malformed request that is not about a field value (invalid JSON, bad URL). */
export class BadRequestError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_BAD_REQUEST", 400, message, details);
  }
}

export class UnsupportedMediaTypeError extends BifrostError {
  constructor(message = "Request bodies must be JSON: send 'Content-Type: application/json'.") {
    super("BIFROST_UNSUPPORTED_MEDIA_TYPE", 415, message);
  }
}

/** The `--json` envelope's statusCode of a start-up error, which is never an HTTP answer (ERROR_STATUS has none). */
const STARTUP_STATUS = 500;

/** `bifrost serve`: another process already listens on the port. Nothing was started. */
export class PortInUseError extends BifrostError {
  constructor(port: number, host: string) {
    super(
      "BIFROST_PORT_IN_USE",
      STARTUP_STATUS,
      `Port ${port} on ${host} is already in use by another process (another bifrost serve?). Stop that process, or start on another port with --port N (or PORT=N).`,
      { port, host },
    );
  }
}

/** An unexpected failure; the message is generic on purpose (the raw one may contain secrets). */
export class InternalError extends BifrostError {
  constructor(requestId: string) {
    super("BIFROST_INTERNAL", 500, `Internal server error (request ${requestId}); the server log has the details.`, { requestId });
  }
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Responses use snake_case field names; error details from the core use camelCase keys at the top level. */
function snakeDetails(details: ErrorDetails): ErrorDetails {
  const out: ErrorDetails = {};
  for (const [k, v] of Object.entries(details)) out[snake(k)] = v;
  return out;
}

export function envelopeOf(err: BifrostError): ErrorEnvelope {
  const json = err.toJSON();
  return {
    statusCode: json.statusCode,
    code: json.code,
    message: redactText(json.message),
    ...(json.details === undefined ? {} : { details: snakeDetails(json.details) }),
  };
}

/** Fastify's own errors (body too large, bad media type, bad URL) as BifrostErrors. */
function fromFastify(err: FastifyError): BifrostError | null {
  const status = err.statusCode;
  if (typeof status !== "number" || status < 400 || status >= 500) return null;
  if (status === 404) return new NotFoundError("Not found.");
  if (status === 413) {
    return new BifrostError("BIFROST_VALUE_TOO_LARGE", 413, `Request body is larger than the ${BODY_LIMIT / 1024 / 1024} MiB limit.`, { limit: BODY_LIMIT });
  }
  if (status === 415) return new UnsupportedMediaTypeError();
  const safe = typeof err.code === "string" && err.code.startsWith("FST_");
  return new BifrostError("BIFROST_BAD_REQUEST", status, safe ? err.message : "Bad request.");
}

function formatPath(path: readonly PropertyKey[], root: string): string {
  let out = root;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out || "(body)";
}

/** Validate with zod; failures become BIFROST_VALIDATION (422) naming every offending path. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query"): z.output<S> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const root = where === "query" ? "query" : "";
  const issues = res.error.issues.map((i) => {
    const hint = i.code === "unrecognized_keys" && i.keys.includes("default") && i.path.includes("config_schema") ? " Defaults belong in the integration's `defaults`, not in the schema." : "";
    return { path: formatPath(i.path, root), message: `${i.message}${hint}` };
  });
  const text = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  throw new ValidationError(`Invalid request ${where}: ${text}`, { path: issues[0]?.path, issues });
}

/** Deepest nesting accepted in a request body. */
const MAX_BODY_DEPTH = 100;

/**
 * Find a `__proto__` key anywhere in a parsed JSON body (returns its path), iteratively so a deeply
 * nested body cannot exhaust the stack; nesting deeper than MAX_BODY_DEPTH is reported as "(too deep)".
 */
function findProtoKey(value: unknown): string | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: "", depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > MAX_BODY_DEPTH) return "(too deep)";
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const k of Object.keys(v)) {
      const at = path === "" ? k : `${path}.${k}`;
      if (k === "__proto__") return at;
      stack.push({ value: (v as Record<string, unknown>)[k], path: at, depth: depth + 1 });
    }
  }
  return null;
}

/** JSON bodies only; `__proto__` keys are refused before any code sees the object. */
export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Never echo the parser's message: it quotes the body, which may hold a secret.
      return done(new BadRequestError("Request body is not valid JSON."), undefined);
    }
    const proto = findProtoKey(value);
    if (proto === "(too deep)") return done(new ValidationError(`Request body is nested deeper than ${MAX_BODY_DEPTH} levels; nothing was changed.`), undefined);
    if (proto !== null) return done(new ValidationError(`Request body uses the forbidden key "__proto__" at ${proto}; nothing was changed.`, { path: proto }), undefined);
    done(null, value);
  });
}

/** One envelope for every error; unknown errors are logged (through the redacting logger) and answered generically. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let known: BifrostError | null = err instanceof BifrostError ? err : null;
    if (!known && typeof err === "object" && err !== null && "statusCode" in err) known = fromFastify(err as FastifyError);
    if (!known) {
      request.log.error({ err }, "unhandled error");
      known = new InternalError(String(request.id));
    } else if (known.statusCode >= 500) {
      request.log.error({ err: known }, "request failed");
    }
    if (known.statusCode === 401) void reply.header("www-authenticate", 'Bearer realm="bifrost"');
    if (known.statusCode === 429 && typeof known.details?.retryAfter === "number") void reply.header("retry-after", String(known.details.retryAfter));
    return reply.code(known.statusCode).send(envelopeOf(known));
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new NotFoundError(`No route ${request.method} ${request.url.split("?")[0] ?? ""}. See GET /api/openapi.json for the routes.`);
    return reply.code(404).send(envelopeOf(err));
  });
}
