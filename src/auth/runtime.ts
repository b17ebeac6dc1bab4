/**
 * Authentication, assembled from the model's `auth` option and the settings: the services (accounts,
 * access tokens, …) every part shares, and the parts themselves (password accounts, sessions, API
 * keys, identity providers), each contributing its routes and its authenticators. buildApp serves the
 * routes like custom routes (validated, problem+json, in the OpenAPI document) and tries the
 * authenticators in order on every request.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Settings } from '../config/settings.js';
import type { Operations } from '../core/operations.js';
import type { JsonSchema } from '../core/schemas.js';
import type { Database } from '../db/database.js';
import { createKilnTables } from '../db/kiln-tables.js';
import type { AnyRoute } from '../extensions/types.js';
import type { AuthModel, Model } from '../model/ir.js';
import type { Authenticator } from '../pipeline/authenticate.js';
import { openRedis } from '../redis/connect.js';
import { type AccountMailer, accountMailFor } from './account-mail.js';
import { accountRoutes } from './account-routes.js';
import { AccountStore } from './account-store.js';
import { apiKeyModule } from './api-key-routes.js';
import { ApiKeys } from './api-keys.js';
import { type BearerVerifier, bearerAuthenticator, kilnTokenVerifier } from './bearer.js';
import { externalBearerVerifier } from './external-bearer.js';
import { jwksModule } from './jwks-route.js';
import { AccessTokens } from './jwt.js';
import { mailModule } from './mail-routes.js';
import { oidcModule } from './oidc-routes.js';
import { Passwords } from './passwords.js';
import { AuthRateLimiter } from './rate-limits.js';
import { RefreshTokens } from './refresh-tokens.js';
import { sessionModule } from './session-routes.js';
import { createSessions, type SessionService } from './sessions.js';
import { sweepExpired } from './sweep.js';
import { AUTH_TABLES } from './tables.js';

/** What every part of authentication may use. */
export interface AuthRuntime {
  readonly model: Model;
  readonly auth: AuthModel;
  readonly settings: Settings;
  readonly db: Database;
  readonly ops: Operations;
  readonly log: FastifyBaseLogger;
  /** `kiln dev`: mail goes to the log when no SMTP server is set, and the session cookie may go over plain HTTP. */
  readonly dev: boolean;
  /** The parts are built for the API document only (see AuthOptions.describeOnly): they must not connect anywhere. */
  readonly describeOnly: boolean;
  /** Present when the model declares accounts. */
  readonly accounts?: AccountStore;
  /** Issues and verifies Kiln's access tokens; present when the model declares accounts. */
  readonly tokens?: AccessTokens;
  /** Shared state of every instance (sessions, rate limits) when REDIS_URL is set; keys start with KILN_REDIS_KEY_PREFIX (`kiln:`). */
  readonly redis?: Redis;
  /** Hashes and checks passwords; present when the model declares accounts. */
  readonly passwords?: Passwords;
  /** Attempts per IP and per account at the routes that guess at secrets; present when the model declares accounts. */
  readonly limiter?: AuthRateLimiter;
  /** Refresh token families; present when the model declares accounts. */
  readonly refresh?: RefreshTokens;
  /** Password-reset and verification mail; present when the model declares accounts and mail can be delivered (account-mail.ts). */
  readonly mail?: AccountMailer;
  /** API keys of the accounts (api-keys.ts); present when the model declares accounts. */
  readonly apiKeys?: ApiKeys;
  /** Browser sessions (sessions.ts); present when the model declares accounts. */
  readonly sessions?: SessionService;
}

/** One part of authentication. */
export interface AuthModule {
  /** Served below the API prefix, like custom routes. */
  readonly routes?: readonly AnyRoute[];
  /** For a bearer token of its own kind (see bearer.ts). */
  readonly bearer?: readonly BearerVerifier[];
  /** Tried after the Authorization header, in order (the session cookie). */
  readonly authenticators?: readonly Authenticator[];
  /** Routes served outside the custom-route machinery (/.well-known/jwks.json, redirects), registered on the app. */
  register?(app: FastifyInstance): void;
  /** The OpenAPI path items of what `register` serves, by full path. */
  readonly paths?: Readonly<Record<string, JsonSchema>>;
  close?(): Promise<void>;
}

export interface Auth {
  readonly runtime: AuthRuntime;
  readonly routes: readonly AnyRoute[];
  readonly authenticators: readonly Authenticator[];
  readonly paths: Readonly<Record<string, JsonSchema>>;
  register(app: FastifyInstance): void;
  close(): Promise<void>;
}

export interface AuthOptions {
  readonly model: Model;
  readonly settings: Settings;
  readonly db: Database;
  readonly ops: Operations;
  readonly log: FastifyBaseLogger;
  readonly dev?: boolean;
  /**
   * Builds the parts for their routes' description only (`kiln openapi`): nothing is created, connected
   * or discovered, and the secrets a server needs (signing key, identity providers' client secrets) are
   * not required, so the document can be written on a machine that holds none of them.
   */
  readonly describeOnly?: boolean;
}

/**
 * One Redis connection for authentication's shared state. Commands wait for a lost connection to come
 * back only briefly (a request must not hang on it): past that they fail, and the request is answered
 * 503 rather than left waiting.
 */
function connectRedis(url: string, keyPrefix: string, log: FastifyBaseLogger): Redis {
  const redis = openRedis(url, { keyPrefix, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5000 });
  redis.on('error', (error: Error) => log.warn({ err: { message: error.message } }, 'redis connection error'));
  return redis;
}

/** How often expired sessions and tokens are removed (sweep.ts). */
const SWEEP_INTERVAL_MS = 3600_000;

/** The authentication of a model that declares `auth`; its tables are created if missing. */
export async function createAuth(options: AuthOptions): Promise<Auth | undefined> {
  const auth = options.model.auth;
  if (!auth) return undefined;
  const describeOnly = options.describeOnly ?? false;
  if (!describeOnly) await createKilnTables(options.db, AUTH_TABLES);
  const accountsModel = auth.accounts;
  const resource = accountsModel && options.model.resourcesByName.get(accountsModel.resource);
  const redis = options.settings.redisUrl && !describeOnly ? connectRedis(options.settings.redisUrl, options.settings.redisKeyPrefix, options.log) : undefined;
  const notices: string[] = [];
  const mail =
    resource &&
    accountsModel &&
    accountMailFor(resource, accountsModel, { ...options, dev: options.dev ?? false, appName: options.model.api.title, notice: (m) => notices.push(m) });
  const accounts = resource && accountsModel && new AccountStore(options.db, resource, accountsModel);
  const runtime: AuthRuntime = {
    ...options,
    auth,
    dev: options.dev ?? false,
    describeOnly,
    ...(redis && { redis }),
    ...(mail && { mail }),
    ...(resource &&
      accountsModel &&
      accounts && {
        accounts,
        sessions: createSessions(accounts, { ...options, dev: options.dev ?? false, redis }),
        tokens: await AccessTokens.fromSettings(describeOnly ? withThrowawaySigningKey(options.settings) : options.settings),
        passwords: new Passwords(options.settings, accountsModel.password),
        limiter: AuthRateLimiter.create(options.settings, redis),
        refresh: new RefreshTokens(options.db, options.settings),
        apiKeys: new ApiKeys(options.db, resource),
      }),
  };
  const modules: AuthModule[] = [];
  if (runtime.tokens) modules.push({ bearer: [kilnTokenVerifier(runtime.tokens)] }, jwksModule(runtime.tokens));
  if (runtime.accounts) modules.push(accountRoutes(runtime));
  if (runtime.mail) modules.push(mailModule(runtime, runtime.mail));
  if (runtime.apiKeys) modules.push(apiKeyModule(runtime, runtime.apiKeys));
  if (runtime.sessions) modules.push(sessionModule(runtime, runtime.sessions));
  if (runtime.auth.oidc.length > 0) modules.push(oidcModule(runtime));
  if (runtime.auth.bearer.length > 0) {
    modules.push({ bearer: runtime.auth.bearer.map((issuer) => externalBearerVerifier(issuer, runtime.settings.authClockSkewS)) });
  }
  const bearer = modules.flatMap((m) => m.bearer ?? []);
  const sweeper =
    describeOnly ||
    setInterval(() => {
      sweepExpired(options.db, options.settings).catch((error: unknown) =>
        options.log.warn({ err: { message: (error as Error).message } }, 'could not sweep expired sessions and tokens'),
      );
    }, SWEEP_INTERVAL_MS).unref();
  return {
    runtime,
    routes: modules.flatMap((m) => m.routes ?? []),
    authenticators: [bearerAuthenticator(bearer), ...modules.flatMap((m) => m.authenticators ?? [])],
    paths: Object.assign({}, ...modules.map((m) => m.paths ?? {})),
    register(app) {
      for (const m of modules) m.register?.(app);
      // Said once the server listens: a start that fails prints its error and nothing else.
      app.addHook('onListen', (done) => {
        for (const notice of notices) options.log.warn(notice);
        done();
      });
    },
    async close() {
      if (sweeper !== true) clearInterval(sweeper);
      for (const m of modules) await m.close?.();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

/** A random signing key in place of the configured one: a description issues no token, and must not read or create the embedded secret. */
function withThrowawaySigningKey(settings: Settings): Settings {
  return { ...settings, authJwtKeys: '', authJwtSecret: randomBytes(32).toString('base64') };
}
