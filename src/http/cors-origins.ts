/**
 * KILN_CORS_ORIGINS entries as @fastify/cors matches them. An origin is matched exactly, except that
 * `scheme://host:*` stands for that host on any port (`http://localhost:*`): a RegExp, since the
 * plugin compares strings whole.
 */
export function corsOriginMatchers(origins: readonly string[]): (string | RegExp)[] {
  return origins.map((origin) => {
    const anyPort = /^([a-z][a-z0-9+.-]*:\/\/[^/:*]+):\*$/i.exec(origin);
    if (!anyPort) return origin;
    return new RegExp(`^${(anyPort[1] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d{1,5})?$`, 'i');
  });
}
