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
