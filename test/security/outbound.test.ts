/**
 * The outbound policy as attacks: the address table at every range edge, the URL rules, spec download
 * and remote mode against a loopback listener that records what it receives (positive control first,
 * then the attack proving nothing arrived).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { loadSpec } from "../../src/generator/load.js";
import { refusedAddress } from "../../src/net/guarded-agent.js";
import { checkOutboundUrl } from "../../src/net/outbound-policy.js";
import { RemoteResolver } from "../../src/host/remote-resolver.js";
import { type Listener, startListener } from "./outbound-listener.js";

const R = "refused";
const A = "allowed";
type Verdict = typeof R | typeof A;

/** [address, default policy, private_network: true] — first/last of each block and the neighbours just outside. */
const EDGES: Array<[string, Verdict, Verdict?]> = [
  ["0.0.0.0", R], ["0.255.255.255", R], ["1.0.0.0", A],
  ["9.255.255.255", A], ["10.0.0.0", R, A], ["10.255.255.255", R, A], ["11.0.0.0", A],
  ["100.63.255.255", A], ["100.64.0.0", R, A], ["100.127.255.255", R, A], ["100.128.0.0", A],
  ["100.100.100.199", R, A], ["100.100.100.200", R, R], ["100.100.100.201", R, A],
  ["126.255.255.255", A], ["127.0.0.0", R, R], ["127.255.255.255", R, R], ["128.0.0.0", A],
  ["168.63.129.15", A], ["168.63.129.16", R, R], ["168.63.129.17", A],
  ["169.253.255.255", A], ["169.254.0.0", R, R], ["169.254.169.254", R, R], ["169.254.170.2", R, R], ["169.254.255.255", R, R], ["169.255.0.0", A],
  ["172.15.255.255", A], ["172.16.0.0", R, A], ["172.31.255.255", R, A], ["172.32.0.0", A],
  ["191.255.255.255", A], ["192.0.0.0", R, R], ["192.0.0.8", R], ["192.0.0.9", R], ["192.0.0.10", R], ["192.0.0.170", R], ["192.0.0.171", R], ["192.0.0.255", R], ["192.0.1.0", A],
  ["192.0.1.255", A], ["192.0.2.0", R, R], ["192.0.2.255", R], ["192.0.3.0", A],
  ["192.31.195.255", A], ["192.31.196.0", R], ["192.31.196.255", R], ["192.31.197.0", A],
  ["192.52.192.255", A], ["192.52.193.0", R], ["192.52.193.255", R], ["192.52.194.0", A],
  ["192.88.98.255", A], ["192.88.99.0", R], ["192.88.99.2", R], ["192.88.99.255", R], ["192.88.100.0", A],
  ["192.167.255.255", A], ["192.168.0.0", R, A], ["192.168.255.255", R, A], ["192.169.0.0", A],
  ["192.175.47.255", A], ["192.175.48.0", R], ["192.175.48.255", R], ["192.175.49.0", A],
  ["198.17.255.255", A], ["198.18.0.0", R, R], ["198.19.255.255", R], ["198.20.0.0", A],
  ["198.51.99.255", A], ["198.51.100.0", R], ["198.51.100.255", R], ["198.51.101.0", A],
  ["203.0.112.255", A], ["203.0.113.0", R], ["203.0.113.255", R], ["203.0.114.0", A],
  ["223.255.255.255", A], ["224.0.0.0", R], ["239.255.255.255", R], ["240.0.0.0", R], ["255.255.255.254", R], ["255.255.255.255", R],
  // IPv6
  ["::", R], ["::1", R, R], ["::2", R], ["::8.8.8.8", R], ["::ffff:ffff", R], ["::1:0:0", R], ["::fffe:ffff:ffff", R],
  ["::ffff:0:0", R], ["::ffff:8.8.8.8", A], ["::ffff:10.0.0.1", R, A], ["::ffff:127.0.0.1", R], ["::ffff:169.254.169.254", R, R], ["::ffff:192.0.2.1", R], ["::ffff:ffff:ffff", R], ["::1:0:0:0", R],
  ["64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", R], ["64:ff9b::", R], ["64:ff9b::808:808", A], ["64:ff9b::a00:1", R, A], ["64:ff9b::7f00:1", R, R], ["64:ff9b::a9fe:a9fe", R, R], ["64:ff9b::ffff:ffff", R], ["64:ff9b::1:0:0", R],
  ["64:ff9b:1::", R], ["64:ff9b:1:ffff:ffff:ffff:ffff:ffff", R], ["64:ff9b:2::", R],
  ["100::", R], ["100::ffff:ffff:ffff:ffff", R], ["100:0:0:1::", R], ["100:0:0:1::1", R], ["100:0:0:1:ffff:ffff:ffff:ffff", R], ["100:0:0:2::", R],
  ["1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2000::", A], ["2000::1", A],
  ["2001::", R], ["2001:0:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2001:1::", R], ["2001:1::1", R], ["2001:1::2", R], ["2001:1::3", R], ["2001:1::4", R],
  ["2001:2::", R], ["2001:2:0:ffff:ffff:ffff:ffff:ffff", R], ["2001:3::", R], ["2001:3:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2001:4:112::", R], ["2001:4:112:ffff:ffff:ffff:ffff:ffff", R], ["2001:4:113::", R],
  ["2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2001:20::", A], ["2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", A], ["2001:30::", A], ["2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", A], ["2001:40::", R],
  ["2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2001:200::", A],
  ["2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", A], ["2001:db8::", R], ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2001:db9::", A],
  ["2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A], ["2002::", R], ["2002:808:808::", R], ["2002:a00:1::", R, R], ["2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["2003::", A],
  ["2001:4860:4860::8888", A],
  ["2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", A], ["2620:4f:8000::", R], ["2620:4f:8000:ffff:ffff:ffff:ffff:ffff", R], ["2620:4f:8001::", A],
  ["3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A], ["3fff::", R], ["3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["3fff:1000::", A], ["3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A], ["4000::", R],
  ["5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["5f00::", R], ["5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R],
  ["fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["fc00::", R, A], ["fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R, A], ["fe00::", R, R],
  ["fd00:ec2::253", R, A], ["fd00:ec2::254", R, R], ["fd00:ec2::255", R, A], ["fd00:ec2::23", R, R],
  ["fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R], ["fe80::", R, R], ["fe80::1%eth0", R, R], ["febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R, R], ["fec0::", R, R], ["feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R],
  ["ff00::", R], ["ff02::1", R], ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R],
];

describe("address table: every range edge", () => {
  it.each(EDGES)("%s → %s (private_network: %s)", (ip, verdict, withPrivate) => {
    expect(refusedAddress(ip, false) === null ? A : R, `${ip}: ${refusedAddress(ip, false)}`).toBe(verdict);
    expect(refusedAddress(ip, false, true) === null ? A : R, `${ip} with private_network: ${refusedAddress(ip, false, true)}`).toBe(withPrivate ?? verdict);
  });

  it("loopback only with the switch; embedded loopback behind NAT64 never", () => {
    for (const ip of ["127.0.0.1", "127.255.255.255", "::1", "::ffff:127.0.0.1"]) expect(refusedAddress(ip, true), ip).toBeNull();
    for (const ip of ["64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1", "169.254.169.254", "0.0.0.0", "::"]) expect(refusedAddress(ip, true, true), ip).not.toBeNull();
  });

  it("IPv4 is parsed in four-part decimal only: hex, octal and single-number forms are not addresses", () => {
    for (const s of ["0x7f.1", "0x7f.0.0.1", "2130706433", "017700000001", "127.1", "127.0.0.01", "0177.0.0.1", "::ffff:127.1", "1.2.3.4.5", "", "localhost"]) {
      expect(refusedAddress(s, true, true), s).toBe("not an IP address");
    }
  });

  it("reasons name the embedded address: Teredo client (XOR), 6to4, NAT64 and mapped", () => {
    // RFC 4380 example: client 192.0.2.45 is stored inverted in the last 32 bits.
    expect(refusedAddress("2001:0:4136:e378:8000:63bf:3fff:fdd2", false)).toMatch(/Teredo.*192\.0\.2\.45.*documentation/);
    expect(refusedAddress("2002:a00:1::1", false)).toMatch(/6to4.*10\.0\.0\.1.*private/);
    expect(refusedAddress("64:ff9b::a9fe:a9fe", false, true)).toMatch(/NAT64.*169\.254\.169\.254.*metadata/);
    expect(refusedAddress("64:ff9b:1:a9fe:a9:fe00::", false)).toMatch(/local-use NAT64.*169\.254\.169\.254/);
    expect(refusedAddress("::ffff:a9fe:a9fe", false)).toMatch(/metadata/);
  });
});

describe("checkOutboundUrl", () => {
  const on = { allowHttpLoopback: true };
  const off = { allowHttpLoopback: false };
  const refused = (url: string, opts: Parameters<typeof checkOutboundUrl>[1]) => {
    try {
      checkOutboundUrl(url, opts);
    } catch (err) {
      expect(err).toBeInstanceOf(BifrostError);
      return err as BifrostError;
    }
    throw new Error(`${url} was not refused`);
  };

  it("https to a public host passes; the error names origin, reason and fix", () => {
    expect(checkOutboundUrl("https://api.example.com/x", off).origin).toBe("https://api.example.com");
    const e = refused("http://api.example.com/x", on);
    expect(e.code).toBe("BIFROST_OUTBOUND_REFUSED");
    expect(e.message).toContain("http://api.example.com");
    expect(e.message).toMatch(/plain http/);
    expect(e.message).toMatch(/use https/);
    expect(e.details).toMatchObject({ origin: "http://api.example.com", reason: "scheme" });
  });

  it("plain http only to loopback, only with the switch; never to a loopback-looking name or a mapped literal", () => {
    expect(checkOutboundUrl("http://127.0.0.1:8080/x", on).port).toBe("8080");
    expect(checkOutboundUrl("http://localhost:8080/x", on).hostname).toBe("localhost");
    expect(checkOutboundUrl("http://[::1]:8080/x", on).hostname).toBe("[::1]");
    for (const url of ["http://127.0.0.1/x", "http://localhost/x"]) expect(refused(url, off).details?.reason).toBe("scheme");
    for (const url of ["http://127.0.0.1.nip.io/x", "http://[::ffff:127.0.0.1]/x", "http://10.0.0.1/x", "http://localhost.example.com/x"]) expect(refused(url, on).details?.reason, url).toBe("scheme");
  });

  it("credentials in the URL, other schemes and refused literals (also in hex/decimal spellings) are refused", () => {
    expect(refused("https://user:pass@api.example.com/", on).details?.reason).toBe("credentials");
    for (const url of ["javascript:alert(1)", "file:///etc/passwd", "ftp://api.example.com/", "data:text/plain,x", "gopher://127.0.0.1/"]) expect(refused(url, on).details?.reason, url).toBe("scheme");
    // WHATWG URL parsing turns 0x7f.1 and 2130706433 into 127.0.0.1: judged as loopback.
    for (const url of ["https://0x7f.1/", "https://2130706433/", "https://017700000001/", "https://127.1/"]) expect(refused(url, off).message, url).toMatch(/loopback/);
    for (const url of ["https://169.254.169.254/latest", "https://[fd00:ec2::254]/", "https://100.100.100.200/", "https://[::ffff:a9fe:a9fe]/"]) {
      const e = refused(url, { allowHttpLoopback: true, privateNetwork: true });
      expect(e.message, url).toMatch(/metadata|link-local/);
      expect(e.message).toMatch(/never reachable/);
    }
    expect(refused("https://10.1.2.3/", off).message).toMatch(/private_network: true/);
    expect(checkOutboundUrl("https://10.1.2.3/", { allowHttpLoopback: false, privateNetwork: true }).hostname).toBe("10.1.2.3");
  });
});

describe("spec download and remote mode against a recording listener", () => {
  let l: Listener;
  let canary: Listener;
  beforeAll(async () => {
    l = await startListener();
    canary = await startListener();
  });
  afterAll(async () => {
    await l?.close();
    await canary?.close();
  });
  beforeEach(() => {
    l.received.length = 0;
    canary.received.length = 0;
    l.answers.clear();
  });

  const SPEC = { openapi: "3.0.3", info: { title: "t", version: "1" }, paths: {} };

  it("spec download: positive control over http to loopback with the switch; without it nothing is sent", async () => {
    l.answers.set("/spec.json", { body: SPEC });
    const ok = await loadSpec(`${l.base}/spec.json`, { allowHttpLoopback: true });
    expect(ok).toBeTruthy();
    expect(l.received).toHaveLength(1);
    l.received.length = 0;
    await expect(loadSpec(`${l.base}/spec.json`, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED" });
    await expect(loadSpec(`https://localhost:${l.port}/spec.json`, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringMatching(/loopback/) });
    await expect(loadSpec(`https://[::ffff:127.0.0.1]:${l.port}/spec.json`, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED" });
    await expect(loadSpec(`https://2130706433:${l.port}/spec.json`, { allowHttpLoopback: false })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED" });
    expect(l.received).toHaveLength(0);
  });

  it("spec download: redirects to private, metadata, documentation, embedded-IPv4 and mapped-loopback targets are refused; the canary receives nothing", async () => {
    const targets = ["https://10.0.0.5/spec.json", "https://169.254.169.254/latest/meta-data", "https://192.0.2.10/spec.json", "https://[64:ff9b::a00:5]/spec.json", "https://[2002:a00:5::]/spec.json", `http://[::ffff:127.0.0.1]:${canary.port}/spec.json`, `http://127.0.0.1.nip.io:${canary.port}/spec.json`];
    for (const [i, target] of targets.entries()) {
      l.answers.set(`/r${i}`, { status: 302, headers: { location: target } });
      await expect(loadSpec(`${l.base}/r${i}`, { allowHttpLoopback: true }), target).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED", message: expect.stringContaining("Redirect refused") });
    }
    expect(l.received).toHaveLength(targets.length);
    expect(canary.received).toHaveLength(0);
  });

  const LIST = { integrations: [{ name: "HaloPSA", mapped: true, entity_id: "T-1", entity_name: "Acme" }] };
  const KEY = `bfk_aaaaaaaaaaaa_${"k".repeat(43)}`;

  it("remote mode: positive control with the switch sends the key; without it (or to a non-loopback http host) nothing is sent", async () => {
    l.answers.set("/api/workflow/integrations", { body: LIST });
    const ok = new RemoteResolver({ url: l.base, apiKey: KEY, allowHttpLoopback: true });
    expect(await ok.list(null)).toEqual([{ name: "HaloPSA", mapped: true, entityId: "T-1", entityName: "Acme" }]);
    expect(l.received).toHaveLength(1);
    expect(l.received[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    l.received.length = 0;
    for (const url of [l.base, `http://localhost:${l.port}`, "http://bifrost.example.com", "http://10.0.0.1:3000", "ftp://bifrost.example.com"]) {
      const err = (() => {
        try {
          new RemoteResolver({ url, apiKey: KEY, allowHttpLoopback: false });
        } catch (e) {
          return e as BifrostError;
        }
        return null;
      })();
      expect(err, url).toBeInstanceOf(BifrostError);
      expect(err!.message).toContain("BIFROST_URL");
      expect(err!.message).not.toContain(KEY);
    }
    expect(() => RemoteResolver.fromEnv({ BIFROST_URL: l.base, BIFROST_API_KEY: KEY })).toThrow(expect.objectContaining({ code: "BIFROST_OUTBOUND_REFUSED" }));
    expect(() => RemoteResolver.fromEnv({ BIFROST_URL: "http://bifrost.example.com", BIFROST_API_KEY: KEY, BIFROST_ALLOW_HTTP_LOOPBACK: "1" })).toThrow(expect.objectContaining({ code: "BIFROST_OUTBOUND_REFUSED" }));
    expect(RemoteResolver.fromEnv({ BIFROST_URL: l.base, BIFROST_API_KEY: KEY, BIFROST_ALLOW_HTTP_LOOPBACK: "1" })).toBeInstanceOf(RemoteResolver);
    expect(l.received).toHaveLength(0);
  });

  it("remote mode: non-Bifrost answers (HTML, not JSON, wrong shape, wrong content type, redirect) → BIFROST_REMOTE_UNAVAILABLE naming BIFROST_URL, never a TypeError", async () => {
    const r = new RemoteResolver({ url: l.base, apiKey: KEY, allowHttpLoopback: true });
    const cases: Array<[string, Parameters<Listener["answers"]["set"]>[1]]> = [
      ["html", { headers: { "content-type": "text/html" }, body: "<html><body>Welcome to nginx</body></html>" }],
      ["not json", { body: "{not json" }],
      ["empty", { body: "" }],
      ["null", { body: "null" }],
      ["array", { body: "[]" }],
      ["wrong shape", { body: { integrations: "nope" } }],
      ["wrong item", { body: { integrations: [{ name: 1 }] } }],
      ["json as text/plain", { headers: { "content-type": "text/plain" }, body: LIST }],
      ["redirect", { status: 302, headers: { location: `${canary.base}/api/workflow/integrations` }, body: "" }],
      ["500 html", { status: 500, headers: { "content-type": "text/html" }, body: "<h1>oops</h1>" }],
    ];
    for (const [what, answer] of cases) {
      l.answers.set("/api/workflow/integrations", answer);
      const err = await r.list(null).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(BifrostError);
      expect((err as BifrostError).code, what).toBe("BIFROST_REMOTE_UNAVAILABLE");
      expect((err as BifrostError).message, what).toContain(`BIFROST_URL=${l.base}`);
      expect((err as BifrostError).message).not.toContain(KEY);
    }
    // The resolved-integration payload and the org lookup are checked too.
    l.answers.set("/api/integrations/HaloPSA/resolved", { body: { integration: "HaloPSA", config: "x" } });
    await expect(r.resolve("HaloPSA", null)).rejects.toMatchObject({ code: "BIFROST_REMOTE_UNAVAILABLE" });
    l.answers.set("/api/workflow/orgs/acme", { body: { id: 1 } });
    await expect(r.findOrg("acme")).rejects.toMatchObject({ code: "BIFROST_REMOTE_UNAVAILABLE" });
    expect(canary.received).toHaveLength(0);
  });
});
