/**
 * The rate limits of an app, from its model and settings: the limiter for the rate-limit stage, the
 * headers it sets on answers, and what the OpenAPI document says of it. Undefined when nothing is
 * limited (KILN_RATE_LIMIT=off and no resource declares a `rateLimit`): the stage stays free.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Settings } from '../config/settings.js';
import { ConfigError } from '../config/settings.js';
import type { JsonSchema } from '../core/schemas.js';
import { AnswerHeaders } from '../http/answer-headers.js';
import type { Model } from '../model/ir.js';
import type { Signals } from '../observability/signals.js';
import type { ContextLogger } from '../pipeline/context.js';
import type { RateLimiter } from '../pipeline/rate-limit.js';
import { ApiRateLimits, type RedisDownMode } from './limiter.js';
import { describeRateLimits } from './openapi.js';
import { PolicyTable } from './policies.js';
import { parseRate } from './rate.js';

type LimitSettings = Pick<
  Settings,
  'rateLimit' | 'rateLimitCostRows' | 'rateLimitRedisDown' | 'trustProxy' | 'redisUrl' | 'redisKeyPrefix' | 'apiPrefix' | 'problemTypeBase'
>;

export interface RateLimits {
  readonly limiter: RateLimiter;
  /** Where the limiter's RateLimit fields wait for the answer (give it to contextFactory). */
  readonly answers: AnswerHeaders;
  /** Writes the fields to the answers; warns once when clients come through a proxy that is not trusted. */
  install(app: FastifyInstance): void;
  describe(document: JsonSchema): void;
  close(): Promise<void>;
}

export interface RateLimitOptions {
  /** `false`: a server assembled only to describe its API opens no connection. */
  readonly connect?: boolean;
  /** Start of the counters' Redis keys below KILN_REDIS_KEY_PREFIX; tests pass their own. Default `rl`. */
  readonly keyPrefix?: string;
  /** Told of every call refused (the metrics). */
  readonly signals?: Signals;
}

export async function createRateLimits(
  model: Model,
  settings: LimitSettings,
  log: ContextLogger,
  options: RateLimitOptions = {},
): Promise<RateLimits | undefined> {
  const global = parseRate(settings.rateLimit);
  if (global === undefined) throw new ConfigError(`invalid configuration:\n  - KILN_RATE_LIMIT: "${settings.rateLimit}" has a window longer than a day`);
  const policies = new PolicyTable(model, global);
  if (policies.empty) return undefined;
  const redis = settings.redisUrl && options.connect !== false ? await connectRedis(settings.redisUrl, settings.redisKeyPrefix, log) : undefined;
  const limits = new ApiRateLimits({
    policies,
    costRows: settings.rateLimitCostRows,
    log,
    redisDown: settings.rateLimitRedisDown as RedisDownMode,
    keyPrefix: options.keyPrefix,
    signals: options.signals,
    ...(redis && { redis }),
  });
  const answers = new AnswerHeaders();
  return {
    limiter: limits.limiter,
    answers,
    install(app) {
      answers.install(app);
      if (settings.trustProxy === 'off') warnUntrustedProxy(app, log);
    },
    describe(document) {
      describeRateLimits(document, model, policies, { prefix: settings.apiPrefix, problemTypeBase: settings.problemTypeBase });
    },
    async close() {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * A connection of the limits' own that fails fast: no offline queue and a command timeout, so a call
 * never waits for Redis to come back (KILN_RATE_LIMIT_REDIS_DOWN decides instead). ioredis reconnects
 * by itself; its errors are the limiter's to report, once per outage.
 */
async function connectRedis(url: string, keyPrefix: string, log: ContextLogger): Promise<Redis> {
  // Loaded only when used: ioredis stays out of the processes that do not need it.
  const { openRedis } = await import('../redis/connect.js');
  const redis = openRedis(url, { keyPrefix, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, commandTimeout: 1000 });
  redis.on('error', (error: Error) => log.debug({ err: { message: error.message } }, 'rate limits: redis connection error'));
  // The first calls would otherwise find it still connecting and count in memory: wait for the
  // connection, or its first failure (connectTimeout at worst), never longer. Down at start-up, the
  // server starts all the same and the limiter reports the outage.
  await new Promise<void>((settled) => {
    const done = () => {
      redis.off('ready', done).off('error', done);
      settled();
    };
    redis.once('ready', done).once('error', done);
  });
  return redis;
}

/**
 * Without KILN_TRUST_PROXY, clients behind a proxy all have the proxy's address, so anonymous callers
 * share one limit. A request with X-Forwarded-For says that may be so: logged once.
 */
function warnUntrustedProxy(app: FastifyInstance, log: ContextLogger): void {
  let warned = false;
  app.addHook('onRequest', (req, _reply, done) => {
    if (!warned && req.headers['x-forwarded-for'] !== undefined) {
      warned = true;
      log.warn(
        { ip: req.ip },
        'rate limits: a request came with X-Forwarded-For but KILN_TRUST_PROXY is off, so anonymous callers are counted by the address of the connection (a proxy’s is shared by all its clients); set KILN_TRUST_PROXY if a proxy you run sets the header',
      );
    }
    done();
  });
}
