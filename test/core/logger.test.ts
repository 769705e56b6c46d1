import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ level: "info", destination }), text: () => lines.join("") };
}

describe("logger", () => {
  it("censors sensitive keys, request query credentials and error causes", () => {
    const { logger, text } = capture();
    logger.info({ client_secret: "cs-1234567", nested: { access_token: "at-1234567" }, headers: { authorization: "Bearer tok-1234567" } }, "hello");
    logger.info({ req: { method: "GET", url: "/api/oauth/callback/X?code=code-1234567&state=st-1234567" } }, "incoming");
    const err = Object.assign(new Error("bad response with Bearer tok-7654321"), { cause: { body: { refresh_token: "rt-1234567" } } });
    logger.error({ err }, "failed");
    const out = text();
    for (const s of ["cs-1234567", "at-1234567", "tok-1234567", "code-1234567", "st-1234567", "tok-7654321", "rt-1234567"]) {
      expect(out).not.toContain(s);
    }
    expect(out).toContain("[REDACTED]");
    expect(out).toContain("/api/oauth/callback/X?code=[REDACTED]");
  });
});
