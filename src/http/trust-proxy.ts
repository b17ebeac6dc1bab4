import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** KILN_TRUST_PROXY as Fastify's `trustProxy` option: whose X-Forwarded-For decides `req.ip`. */
export function trustProxyOption(setting: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === 'off') return false;
  if (setting === 'true') return true;
  // A number of hops: the closest `hops` proxies are trusted, as Fastify does for a number.
  if (/^[0-9]+$/.test(setting)) {
    const hops = Number(setting);
    return (_address, hop) => hop < hops;
  }
  return setting
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * How to read the client address of a raw request (a WebSocket upgrade, which Fastify does not see)
 * by the same rule as Fastify's `req.ip`, with the same library: X-Forwarded-For only from trusted
 * proxies. The rule is compiled once, here.
 */
export function clientAddressReader(setting: string): (request: IncomingMessage) => string {
  const trust = trustProxyOption(setting);
  if (trust === false) return (request) => request.socket.remoteAddress ?? '';
  const rule = trust === true ? () => true : typeof trust === 'function' ? trust : proxyAddr.compile(trust);
  return (request) => proxyAddr(request, rule);
}
