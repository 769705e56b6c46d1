import { once } from "node:events";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { checkUrlAllowed, guardedRequest, refusedAddress } from "../../src/oauth/guarded-fetch.js";

describe("resolved-address policy (DESIGN §5)", () => {
  it.each([
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "CGNAT"],
    ["169.254.169.254", "link-local"],
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fc00::1", "unique local"],
    ["fd12:3456::1", "unique local"],
    ["fe80::1", "link-local"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["::127.0.0.1", "loopback"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
  ])("refuses %s (%s)", (ip, kind) => {
    expect(refusedAddress(ip, false)).toMatch(new RegExp(kind.split(" ")[0] as string, "i"));
  });

  it("allows public addresses, and loopback only with the loopback switch", () => {
    for (const ip of ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "100.128.0.1"]) expect(refusedAddress(ip, false)).toBeNull();
    for (const ip of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect(refusedAddress(ip, true)).toBeNull();
    for (const ip of ["10.0.0.1", "169.254.169.254", "::ffff:192.168.0.1", "fe80::1", "0.0.0.0"]) expect(refusedAddress(ip, true)).not.toBeNull();
  });

  it("https IP literals are checked without a lookup", () => {
    for (const url of ["https://127.0.0.1/token", "https://[::1]/token", "https://[::ffff:127.0.0.1]/token", "https://169.254.169.254/latest", "https://10.0.0.1/token", "https://0.0.0.0/token", "https://[fd00::1]/token"]) {
      expect(() => checkUrlAllowed(url, { allowHttpLoopback: false }), url).toThrow(expect.objectContaining({ code: "BIFROST_OAUTH_URL_REFUSED" }));
    }
    expect(checkUrlAllowed("https://127.0.0.1/token", { allowHttpLoopback: true }).hostname).toBe("127.0.0.1");
    expect(() => checkUrlAllowed("https://10.0.0.1/token", { allowHttpLoopback: true })).toThrow(expect.objectContaining({ code: "BIFROST_OAUTH_URL_REFUSED" }));
    expect(checkUrlAllowed("https://93.184.216.34/token", { allowHttpLoopback: false }).hostname).toBe("93.184.216.34");
  });

  describe("connect-time check of a hostname (localhost → 127.0.0.1)", () => {
    let server: net.Server;
    let port = 0;
    let connections = 0;
    beforeAll(async () => {
      server = net.createServer((s) => {
        connections++;
        s.destroy();
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const opts = (allowHttpLoopback: boolean) => ({ allowHttpLoopback, timeoutMs: 2000, maxResponseBytes: 1024 });

    it("https://localhost with the loopback switch off → refused before any connection", async () => {
      connections = 0;
      const err = await guardedRequest(`https://localhost:${port}/token`, { method: "POST", body: "grant_type=client_credentials" }, opts(false)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BifrostError);
      expect(err).toMatchObject({ code: "BIFROST_OAUTH_URL_REFUSED" });
      expect((err as Error).message).toMatch(/resolves to a loopback address/);
      expect(connections).toBe(0);
    });

    it("control: with the loopback switch on the same URL does connect (so the refusal above is the policy)", async () => {
      connections = 0;
      const err = await guardedRequest(`https://localhost:${port}/token`, { method: "POST" }, opts(true)).catch((e: unknown) => e);
      // The canary is not a TLS server: the connection is made, then fails as a network error.
      expect(err).toMatchObject({ code: "BIFROST_OAUTH_TRANSIENT" });
      expect(connections).toBeGreaterThan(0);
    });
  });
});
