/**
 * Every Redis connection Kiln opens (sessions, rate limits, the response cache, change events) is
 * made here, from REDIS_URL, so that each speaks to the same Redis the same way. Two forms:
 *
 *   redis://[user:password@]host:port[/db]     (rediss:// with TLS): one server, or an endpoint that
 *                                               follows the primary on failover (a managed service)
 *   redis+sentinel://[user:password@]host:port,host:port/master[/db]   (rediss+sentinel:// with TLS)
 *
 * The second asks the Sentinels which server is the primary of `master`, connects to it, and asks
 * again after a failover (ioredis's Sentinel support): a connection lost during the failover fails
 * the commands of that moment as any Redis outage does, and the next ones reach the new primary.
 * The user and password are those of the Redis servers; Sentinels that require one of their own are
 * not supported.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { StartupError } from '../config/startup-error.js';

const SENTINEL = /^(rediss?)\+sentinel:\/\//;

/** A Redis client of REDIS_URL with `options` (key prefix, timeouts, offline queue) as each user needs. */
export function openRedis(url: string, options: RedisOptions): Redis {
  const sentinel = sentinelOptions(url);
  return sentinel ? new Redis({ ...options, ...sentinel }) : new Redis(url, options);
}

/** The Sentinel form's options; undefined for a plain redis:// URL. A malformed Sentinel URL is a StartupError. */
function sentinelOptions(url: string): RedisOptions | undefined {
  const scheme = SENTINEL.exec(url);
  if (!scheme) return undefined;
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@', rest.indexOf('/') === -1 ? rest.length : rest.indexOf('/'));
  const credentials = at === -1 ? '' : rest.slice(0, at);
  const [hosts = '', master = '', db] = rest.slice(at + 1).split('/');
  const sentinels = hosts.split(',').map((entry) => {
    const match = /^([^:]+):(\d{1,5})$/.exec(entry);
    if (!match) throw new StartupError(`REDIS_URL: "${entry}" is not a Sentinel address: write host:port, several separated by commas`);
    return { host: match[1] as string, port: Number(match[2]) };
  });
  if (!master) throw new StartupError('REDIS_URL: name the master after the Sentinel addresses: redis+sentinel://host:26379,host:26379/mymaster');
  if (db !== undefined && !/^\d+$/.test(db)) throw new StartupError(`REDIS_URL: "${db}" is not a database number`);
  const [username, password] = credentials ? credentials.split(':').map(decodeURIComponent) : [];
  const tls = scheme[1] === 'rediss';
  return {
    sentinels,
    name: master,
    ...(db !== undefined && { db: Number(db) }),
    ...(username && { username }),
    ...(password !== undefined && { password }),
    ...(tls && { tls: {}, enableTLSForSentinelMode: true }),
  };
}
