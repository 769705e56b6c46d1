/**
 * The outbound policy of the client runtime's requests (generated calls and `integration.fetch()`),
 * part of the SDK core: the URL rule and the connect-time address check of src/net, loaded with the
 * SDK rather than bundled into each generated module.
 */
import { guardedAgent } from "../net/guarded-agent.js";
import { checkOutboundUrl } from "../net/outbound-policy.js";

/**
 * The outbound policy for one request URL: https only, plain http only to loopback with
 * BIFROST_ALLOW_HTTP_LOOPBACK=1 (throws before sending), and the dispatcher that checks the addresses
 * connected to (private ranges only with the integration's `private_network`).
 */
export function outbound(url: string, privateNetwork: boolean): { url: URL; dispatcher: unknown } {
  const allowHttpLoopback = process.env.BIFROST_ALLOW_HTTP_LOOPBACK === "1";
  const u = checkOutboundUrl(url, { allowHttpLoopback, privateNetwork });
  return { url: u, dispatcher: guardedAgent(u.protocol, allowHttpLoopback, privateNetwork) };
}
