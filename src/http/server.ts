import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { policyFor } from '../access/policy.js';
import { createResponseCache } from '../cache/create-cache.js';
import type { Settings } from '../config/settings.js';
import { CompiledModel } from '../core/compiled-model.js';
import { CursorCodec } from '../core/cursor.js';
import { DatabaseErrorMapper } from '../core/database-errors.js';
import { KilnError } from '../core/errors.js';
import { Operations } from '../core/operations.js';
import { toProblem } from '../core/problem.js';
import type { Database } from '../db/database.js';
import { noDatabase } from '../db/no-database.js';
import type { SqlLogMode } from '../db/sql-log.js';
import type { EventBus } from '../events/bus.js';
import { createEventBus } from '../events/create-bus.js';
import type { AnyRoute } from '../extensions/types.js';
import { registerGraphql } from '../graphql/endpoint.js';
import { registerGraphiql, servesGraphiql } from '../graphql/graphiql.js';
import { graphqlPaths } from '../graphql/limits-openapi.js';
import { graphqlProtection } from '../graphql/protection.js';
import { buildGraphqlSchema } from '../graphql/schema.js';
import { subscriptionsOf } from '../graphql/subscriptions.js';
import { serveSubscriptions } from '../graphql/ws-server.js';
import type { Model } from '../model/ir.js';
import { createLoadShedder } from '../observability/load-shedding.js';
import { type AppMetrics, createMetrics, joinSignals } from '../observability/metrics.js';
import { registerMetricsRoute } from '../observability/metrics-endpoint.js';
import { NO_SIGNALS, type Signals } from '../observability/signals.js';
import { installTracing } from '../observability/tracing.js';
import { registerDocs } from '../openapi/docs-page.js';
import { buildOpenApi } from '../openapi/document.js';
import type { Authenticator } from '../pipeline/authenticate.js';
import type { AccessPolicy } from '../pipeline/authorize.js';
import { type ContextOptions, createContext, limitsFrom, type RequestContext } from '../pipeline/context.js';
import type { RateLimiter } from '../pipeline/rate-limit.js';
import { createRateLimits } from '../ratelimit/create.js';
import { EventStreams, wantsEventStream } from '../rest/event-stream.js';
import { MethodTable } from '../rest/method-table.js';
import { contextFactory } from '../rest/request-context.js';
import { registerResourceRoutes } from '../rest/resource-routes.js';
import { corsOriginMatchers } from './cors-origins.js';
import { registerCustomRoutes, routesToServe } from './custom-routes.js';
import { fromFastify, installErrorHandling, MAX_PARAM_LENGTH, PROBLEM_TYPE, sendProblem, useProblemTypeBase } from './error-handler.js';
import { installFaultLog } from './fault-log.js';
import { registerHealth } from './health.js';
import { parseJsonBody } from './json-body.js';
import { acceptsJson } from './negotiation.js';
import {
  deferredChildLogger,
  flushStdoutLog,
  installRequestLogging,
  installSqlLog,
  type LogFormat,
  logDestinationFor,
  loggerOptions,
  type RequestLogger,
  requestId,
} from './observability.js';
import { type QuietSockets, trackQuietSockets } from './quiet-sockets.js';
import { API_SECURITY_HEADERS } from './security-headers.js';
import { trustProxyOption } from './trust-proxy.js';

export interface KilnAppOptions {
  readonly model: Model;
  readonly settings: Settings;
  readonly db: Database;
  /** Title of the API in the docs; overrides the model's `api.title`. */
  readonly title?: string;
  /** Overrides the model's `api.version`. */
  readonly version?: string;
  /** A pino destination stream (tests capture logs with it). */
  readonly logStream?: NodeJS.WritableStream;
  /** Stage "authenticate": tried in order; a request none recognises is anonymous. */
  readonly authenticators?: readonly Authenticator[];
  /** Stage "rate-limit": run before every operation. */
  readonly rateLimiters?: readonly RateLimiter[];
  /** Stage "authorize": who may do what, and on which rows. Every action is open when absent. */
  readonly access?: AccessPolicy;
  /** Custom routes, besides the model's own (docs/how-to/hooks-and-routes.md). */
  readonly routes?: readonly AnyRoute[];
  /** Served by `kiln dev`: mail without SMTP goes to the log, the session cookie may go over plain HTTP. */
  readonly dev?: boolean;
  /** What the parts of the app report for the metrics (cache hits and misses, …); reported nowhere when absent. */
  readonly signals?: Signals;
}

export interface KilnApp {
  readonly app: FastifyInstance;
  readonly ops: Operations;
  readonly openapi: Record<string, unknown>;
  /** Change events: what subscriptions (GraphQL, /v1/{resource}/events) hear; publish() announces a write made outside the operations. */
  readonly events: EventBus;
  /** The schema served at /graphql; undefined when GraphQL is off (KILN_GRAPHQL=false). */
  readonly graphqlSchema: GraphQLSchema | undefined;
  /** The app's metrics registry when KILN_METRICS is on; startKiln serves it (src/observability/metrics-endpoint.ts). */
  readonly metrics?: AppMetrics;
  /** A context for calling `ops` directly (scripts, tests, custom code): the limits of the settings, anonymous unless told. */
  context(options?: Partial<ContextOptions>): RequestContext;
  /**
   * Stops accepting connections, lets in-flight requests finish (their responses say Connection:
   * close), then closes the database unless told to keep it. Idle keep-alive connections are closed at
   * once, or after `drainMs`: until then a request arriving on one is answered 503 KILN_SHUTTING_DOWN
   * with Connection: close rather than meeting a closed connection (`kiln serve` on SIGTERM).
   */
  close(options?: { keepDatabase?: boolean; drainMs?: number }): Promise<void>;
}

const HTTP_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

/** Assembles the Fastify server for a model: REST routes, docs, health, security headers and limits. */
export async function buildApp(options: KilnAppOptions): Promise<KilnApp> {
  // KILN_METRICS: a registry of this app's own; its signals reach the metrics besides the caller's own.
  const metrics = options.settings.metrics ? createMetrics(options.db) : undefined;
  return assembleApp({ ...options, signals: joinSignals(options.signals, metrics?.signals) }, false, metrics);
}

/**
 * The OpenAPI document a server for this model and these settings serves, without serving it
 * (`kiln openapi`). The app is assembled exactly as for `kiln serve`, so the two documents cannot
 * drift apart, but on a database that refuses every statement, with authentication built for its
 * routes' description only (no connection, no discovery, no secret required).
 */
export async function describeApi(model: Model, settings: Settings): Promise<Record<string, unknown>> {
  const kiln = await assembleApp({ model, settings: { ...settings, logLevel: 'silent' }, db: noDatabase() }, true);
  await kiln.close();
  return kiln.openapi;
}

/** The GraphQL schema a server for this model and these settings serves (`kiln graphql`), assembled as describeApi does, GraphQL on. */
export async function describeGraphql(model: Model, settings: Settings): Promise<GraphQLSchema> {
  const kiln = await assembleApp({ model, settings: { ...settings, graphql: true, logLevel: 'silent' }, db: noDatabase() }, true);
  await kiln.close();
  return kiln.graphqlSchema as GraphQLSchema;
}

async function assembleApp(options: KilnAppOptions, describeOnly: boolean, metrics?: AppMetrics): Promise<KilnApp> {
  const { model, settings, db } = options;
  let closing = false;
  let shutdown: Promise<void> | undefined;
  let databaseClosed: Promise<void> | undefined;
  const logDestination = logDestinationFor(settings.logFormat as LogFormat, options.logStream);
  // What the hooks add to every response, for the answers given before any hook runs (router and HTTP parser errors).
  const beforeHooks: BeforeHooks = { logRequest: () => {} };
  // Load shedding (KILN_SHED_*) answers at the HTTP server's door, before Fastify (serverFactory below).
  const shedder = describeOnly ? undefined : createLoadShedder(settings, db, options.signals ?? NO_SIGNALS);
  const app = Fastify({
    logger: loggerOptions(settings.logLevel, logDestination),
    // One line per request is written by our own onResponse hook (observability.ts).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: deferredChildLogger,
    genReqId: requestId,
    // KILN_TRUST_PROXY: whose X-Forwarded-For decides req.ip (what anonymous callers' rate limits key by).
    trustProxy: trustProxyOption(settings.trustProxy),
    bodyLimit: settings.bodyLimit,
    // The shutdown gate below answers 503 itself; close() closes idle connections (drainConnections).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      // The door: a request the shedder refuses never reaches Fastify.
      const door: typeof handler = shedder
        ? (req, res) => {
            if (!shedder.refuse(req, res, settings.problemTypeBase)) handler(req, res);
          }
        : handler;
      const server = createHttpServer(
        { maxHeaderSize: settings.maxHeaderSize, connectionsCheckingInterval: checkingInterval(settings.requestTimeoutMs) },
        door,
      );
      server.requestTimeout = settings.requestTimeoutMs;
      server.headersTimeout = Math.min(settings.requestTimeoutMs || 60000, 60000);
      server.keepAliveTimeout = settings.keepAliveTimeoutMs;
      return server;
    },
    clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket) {
      clientError(this, error, socket);
    },
    frameworkErrors: (error, req, reply) => answerRouterError(error, req, reply, beforeHooks, closing),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
  });
  useProblemTypeBase(app, settings.problemTypeBase);
  const quietSockets = trackQuietSockets(app.server);
  // Our JSON parser replaces Fastify's (json-body.ts); other media types, application/*+json included, are 415.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: settings.bodyLimit }, (_req, body, done) => {
    done(null, parseJsonBody(body as Buffer));
  });

  beforeHooks.logRequest = installRequestLogging(app, logDestination);
  const stopSqlLog = installSqlLog(app, db, settings.logSql as SqlLogMode);
  // Request counts for GET /metrics (KILN_METRICS).
  metrics?.countRequests(app);
  // Before the request gate: a request it answers (shutting down, 406) still gets its span.
  const stopTracing = describeOnly ? async () => {} : await installTracing(app, db, settings, model.api.version);

  const apiBase = `${settings.apiPrefix}/`;
  // The request gate: one hook for what every request needs first (a hook per concern costs a call
  // and a continuation each). Callback style, like every hook on the request path: an async hook
  // costs a promise and a tick. It runs before CORS, so a preflight answer carries the id too.
  app.addHook('onRequest', (req, reply, done) => {
    stamp(req, reply);
    if (closing) {
      refuseWhileClosing(reply);
      return;
    }
    if (req.url.startsWith(apiBase) && !acceptsJson(req.headers.accept) && !wantsEventStream(req.url, req.headers.accept)) {
      sendProblem(reply, new KilnError('KILN_NOT_ACCEPTABLE', { detail: 'this API answers only application/json; send Accept: application/json' }));
      return;
    }
    done();
  });
  // Without allowed origins there is nothing for CORS to answer: the plugin is not even registered.
  if (settings.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: corsOriginMatchers(settings.corsOrigins),
      credentials: settings.corsCredentials,
      methods: [...HTTP_METHODS],
      // What a browser's script may read: the rate-limit state and Retry-After to pace itself, X-Cache to see a hit.
      exposedHeaders: ['etag', 'location', 'x-request-id', 'idempotent-replayed', 'ratelimit', 'ratelimit-policy', 'retry-after', 'x-cache'],
      maxAge: 600,
    });
  }
  // A request still in flight when shutdown starts is answered, then its connection is closed: say so,
  // or a keep-alive client may send its next request on a connection that is about to go away.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  const limits = limitsFrom(settings);
  const compiled = new CompiledModel(model, limits);
  const events = await createEventBus(settings, app.log, { connect: !describeOnly });
  // KILN_RATE_LIMIT and the resources' `rateLimit` (src/ratelimit/): undefined when nothing is limited.
  const rateLimits = await createRateLimits(model, settings, app.log, { connect: !describeOnly, signals: options.signals });
  rateLimits?.install(app);
  const cache = await createResponseCache(settings, model, {
    log: app.log,
    signals: options.signals,
    customPolicy: options.access !== undefined,
    connect: !describeOnly,
  });
  const ops = new Operations({
    db,
    compiled,
    cursors: new CursorCodec(settings.cursorSecret, settings.cursorPreviousSecrets),
    errors: new DatabaseErrorMapper(model),
    policy: options.access ?? policyFor(model),
    rateLimiters: rateLimits ? [...(options.rateLimiters ?? []), rateLimits.limiter] : options.rateLimiters,
    events,
    changes: cache,
  });
  const methods = new MethodTable();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) methods.add(route.url, method);
  });
  // The app's own authenticators first: Kiln's answers 401 to any Authorization header it cannot verify.
  // Loaded only for a model with auth: its dependencies (jose, openid-client, ioredis, argon2, …) stay
  // out of every process that does not need them, including a CommonJS project importing kilnjs.
  const auth =
    model.auth && (await (await import('../auth/runtime.js')).createAuth({ model, settings, db, ops, log: app.log, dev: options.dev, describeOnly }));
  const routeDeps = {
    ops,
    contextOf: contextFactory([...(options.authenticators ?? []), ...(auth?.authenticators ?? [])], limits, rateLimits?.answers),
    prefix: settings.apiPrefix,
    idempotencyTtlHours: settings.idempotencyTtlHours,
    cache,
  };
  const streams = new EventStreams();
  for (const resource of model.resources) {
    registerResourceRoutes(app, compiled.of(resource), routeDeps);
    streams.register(app, compiled.of(resource), { ...routeDeps, bus: events });
  }
  const customRoutes = routesToServe(model, [...(auth?.routes ?? []), ...(options.routes ?? [])], settings.apiPrefix);
  auth?.register(app);
  registerCustomRoutes(app, customRoutes, routeDeps);
  registerHealth(app, db);
  if (metrics && settings.metricsToken) registerMetricsRoute(app, metrics.source, settings.metricsToken);
  const graphqlSchema = settings.graphql ? buildGraphqlSchema(compiled, { limits, extend: subscriptionsOf(compiled, events, limits) }) : undefined;
  const protection = graphqlSchema && graphqlProtection(settings, options.dev ?? false);
  if (graphqlSchema) registerGraphql(app, { schema: graphqlSchema, ops, contextOf: routeDeps.contextOf, protection });
  const sockets =
    graphqlSchema && !describeOnly
      ? serveSubscriptions(app.server, {
          ...settings,
          schema: graphqlSchema,
          ops,
          contextOf: routeDeps.contextOf,
          protection,
          log: app.log,
          maxPayload: settings.bodyLimit,
        })
      : undefined;
  if (servesGraphiql(settings, options.dev ?? false)) registerGraphiql(app, options.title ?? model.api.title);
  const openapi = buildOpenApi(model, {
    title: options.title,
    version: options.version,
    prefix: settings.apiPrefix,
    publicUrl: settings.publicUrl,
    problemTypeBase: settings.problemTypeBase,
    limits: settings,
    routes: customRoutes,
    extraPaths: { ...auth?.paths, ...(protection && graphqlPaths(protection)) },
    security: { ...settings, dev: options.dev ?? false },
    publicRoutes: auth?.routes,
  });
  rateLimits?.describe(openapi);
  if (settings.docs) registerDocs(app, options.title ?? model.api.title, openapi);
  installErrorHandling(app, methods, installFaultLog(app, db));
  const sweeper = setInterval(() => {
    db.query(`DELETE FROM "kiln_idempotency_keys" WHERE "created_at" < now() - make_interval(hours => $1::int)`, [settings.idempotencyTtlHours]).catch(
      (error: unknown) => app.log.warn({ err: error }, 'could not sweep expired idempotency keys'),
    );
  }, 3600_000);
  sweeper.unref();

  return {
    app,
    ops,
    openapi,
    events,
    graphqlSchema,
    metrics,
    context: (options = {}) => createContext({ limits, ...options }),
    // The app closes once: a second call (a test's cleanup after the test closed it, a signal during
    // shutdown) waits for the first, and closes the database if the first kept it.
    async close({ keepDatabase = false, drainMs = 0 } = {}) {
      shutdown ??= closeApp(drainMs);
      await shutdown;
      if (!keepDatabase) {
        databaseClosed ??= db.close();
        await databaseClosed;
      }
    },
  };

  async function closeApp(drainMs: number): Promise<void> {
    closing = true;
    clearInterval(sweeper);
    // Open subscriptions would keep their connections, and so the drain, waiting forever.
    streams.close();
    await sockets?.close();
    await drainConnections(app.server, quietSockets, drainMs);
    await app.close();
    await events.close();
    await rateLimits?.close();
    await cache?.close();
    await auth?.close();
    stopSqlLog();
    shedder?.close();
    metrics?.close();
    // After app.close(): every request has been answered, so its span has ended and is flushed here.
    await stopTracing();
    if (!options.logStream) await flushStdoutLog();
  }
}

/**
 * Node checks request and header timeouts only every `connectionsCheckingInterval` (30 s by default),
 * so a slow client could hold a socket for up to timeout + 30 s. Check often enough to keep the limit.
 */
function checkingInterval(timeoutMs: number): number {
  return timeoutMs > 0 ? Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4))) : 30000;
}

/**
 * Stops accepting connections, and gives the open ones `windowMs` to bring one more request: it is
 * answered 503 with Connection: close by the shutdown gate, where closing the idle connection at once
 * would have the client's request meet a reset. Then the connections still idle are closed, and the
 * promise resolves once the requests in flight are answered and their connections closed.
 */
async function drainConnections(server: Server, quiet: QuietSockets, windowMs: number): Promise<void> {
  if (!server.listening) return;
  // net.Server#close only stops listening; http.Server#close would also close the idle connections now.
  const closed = new Promise<void>((done) => NetServer.prototype.close.call(server, () => done()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((done) => (timer = setTimeout(done, windowMs)))]);
  clearTimeout(timer);
  // A response begun before shutdown ends without Connection: close and leaves its connection idle:
  // keep closing idle connections until none is left.
  const closeIdle = () => {
    server.closeIdleConnections();
    quiet.closeQuiet();
  };
  closeIdle();
  const sweep = setInterval(closeIdle, 100);
  await closed;
  clearInterval(sweep);
}

/** The shutdown gate's answer: 503, after which the connection is closed. */
function refuseWhileClosing(reply: FastifyReply): void {
  reply.header('connection', 'close');
  sendProblem(reply, new KilnError('KILN_SHUTTING_DOWN', { detail: 'this instance is shutting down; retry' }));
}

/** What every response carries: its request id and the API's security headers. */
function stamp(req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id).headers(API_SECURITY_HEADERS);
}

interface BeforeHooks {
  logRequest: RequestLogger;
}

/**
 * Fastify's router answers a path it cannot decode (FST_ERR_BAD_URL) and a path parameter longer
 * than maxParamLength (FST_ERR_MAX_PARAM_LENGTH) through `frameworkErrors`, before any hook has run.
 * These answers get here what the hooks give every other one: the request id, the security headers,
 * the shutdown gate and the log line.
 */
function answerRouterError(error: FastifyError, req: FastifyRequest, reply: FastifyReply, hooks: BeforeHooks, closing: boolean): void {
  stamp(req, reply);
  reply.raw.once('finish', () => hooks.logRequest(req, reply));
  if (closing) {
    refuseWhileClosing(reply);
    return;
  }
  const known = fromFastify(error, req.url);
  if (!known) req.log.error({ err: error }, 'unhandled error');
  sendProblem(reply, known ?? new KilnError('KILN_INTERNAL', { detail: 'an unexpected error occurred; the server log has the cause under this request id' }));
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers too large, timeout,
 * unparsable request line), answered as problem+json with a request id and the security headers,
 * and logged under the id.
 */
function clientError(app: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: 'KILN_HEADERS_TOO_LARGE' | 'KILN_REQUEST_TIMEOUT' | 'KILN_BAD_REQUEST' =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'KILN_HEADERS_TOO_LARGE' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'KILN_REQUEST_TIMEOUT' : 'KILN_BAD_REQUEST';
  const kilnError = new KilnError(code);
  const id = randomUUID();
  app.log.info({ reqId: id, status: kilnError.status, code, reason: error.code }, 'client error');
  const body = JSON.stringify(toProblem(kilnError, id, app.problemTypeBase));
  const headers = Object.entries(API_SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${kilnError.status} ${kilnError.title}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${id}\r\n${headers.join('')}Connection: close\r\n\r\n${body}`,
  );
}
