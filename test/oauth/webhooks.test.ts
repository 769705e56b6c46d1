import { createHmac } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { recordEvent } from "../../src/oauth/events.js";
import { resolveOptions } from "../../src/oauth/options.js";
import { deliverWebhooks } from "../../src/oauth/webhooks.js";
import { seed, TEST_OAUTH } from "./helpers/setup.js";

const SECRET = "whsec-test-0123456789";

for (const backend of BACKENDS) {
  describe(`webhook delivery (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let server: http.Server;
    let url: string;
    const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    let failNext = 0;

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      await seed(bf, ["Halo"], []);
      server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString("utf8")));
        req.on("end", () => {
          received.push({ headers: req.headers, body });
          res.statusCode = failNext-- > 0 ? 500 : 204;
          res.end();
        });
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    });
    afterAll(async () => {
      server?.close();
      await cleanup?.();
    });

    it("signed JSON POST, retried after a 500, delivered once across two deliverers; no secret in the payload", async () => {
      const integration = (await bf.store.getIntegrationByName("Halo"))!;
      await recordEvent(bf.store, bf.clock, { type: "needs_reauth", integrationId: integration.id, orgId: null, payload: { reason: "invalid_grant" } });
      const oauth = resolveOptions({ ...TEST_OAUTH, backoffBaseMs: 1, backoffMaxMs: 2 });
      const hooks = { url, secret: SECRET };
      failNext = 1;
      // Two deliverers at once: the lease/SKIP LOCKED claim gives the event to exactly one.
      const first = await Promise.all([deliverWebhooks(bf, oauth, hooks, "a"), deliverWebhooks(bf, oauth, hooks, "b")]);
      expect(first).toEqual([0, 0]);
      expect(received.length).toBe(1);
      await new Promise((r) => setTimeout(r, 10));
      const second = await Promise.all([deliverWebhooks(bf, oauth, hooks, "a"), deliverWebhooks(bf, oauth, hooks, "b")]);
      expect(second[0]! + second[1]!).toBe(1);
      expect(received.length).toBe(2);
      expect(await deliverWebhooks(bf, oauth, hooks, "c")).toBe(0);
      expect(received.length).toBe(2);

      const last = received[1]!;
      const sig = String(last.headers["x-bifrost-signature"]);
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
      expect(m).not.toBeNull();
      const expected = createHmac("sha256", SECRET).update(`${m![1]}.${last.body}`).digest("hex");
      expect(m![2]).toBe(expected);
      expect(last.headers["content-type"]).toBe("application/json");
      const body = JSON.parse(last.body) as { type: string; payload: unknown };
      expect(body).toMatchObject({ type: "needs_reauth", payload: { reason: "invalid_grant" } });
      expect(last.body).not.toContain(SECRET);
    });

    it("refuses plain http to a non-loopback receiver through the guarded fetch (no request sent)", async () => {
      const integration = (await bf.store.getIntegrationByName("Halo"))!;
      await recordEvent(bf.store, bf.clock, { type: "disconnected", integrationId: integration.id, orgId: null, payload: {} });
      const before = received.length;
      const oauth = resolveOptions({ ...TEST_OAUTH });
      expect(await deliverWebhooks(bf, oauth, { url: "http://example.invalid/hook", secret: SECRET }, "d")).toBe(0);
      expect(received.length).toBe(before);
    });
  });
}
