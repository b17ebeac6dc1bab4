import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Settings } from '../config/settings.js';
import { CursorCodec } from '../core/cursor.js';
import { DatabaseErrorMapper } from '../core/database-errors.js';
import { KilnError } from '../core/errors.js';
import { Operations } from '../core/operations.js';
import { toProblem } from '../core/problem.js';
import type { Database } from '../db/database.js';
import type { Model } from '../model/ir.js';
import { registerDocs } from '../openapi/docs-page.js';
import { buildOpenApi } from '../openapi/document.js';
import { BodyValidator } from '../rest/body.js';
import { MethodTable } from '../rest/method-table.js';
import { QueryGrammar } from '../rest/query-grammar.js';
import { registerResourceRoutes } from '../rest/resource-routes.js';
import { Serializers } from '../rest/serializers.js';
import { installErrorHandling, PROBLEM_TYPE, sendProblem } from './error-handler.js';
import { registerHealth } from './health.js';
import { acceptsJson } from './negotiation.js';
import { flushStdoutLog, installRequestLogging, loggerOptions, requestId } from './observability.js';
import { installSecurityHeaders } from './security-headers.js';

export interface KilnAppOptions {
  readonly model: Model;
  readonly settings: Settings;
  readonly db: Database;
  /** Title of the API in the docs. */
  readonly title?: string;
  readonly version?: string;
  /** A pino destination stream (tests capture logs with it). */
  readonly logStream?: NodeJS.WritableStream;
}

export interface KilnApp {
  readonly app: FastifyInstance;
  readonly ops: Operations;
  readonly openapi: Record<string, unknown>;
  /** Stops accepting, lets in-flight requests finish, then closes the database unless told to keep it. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

const HTTP_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

/** Assembles the Fastify server for a model: REST routes, docs, health, security headers and limits. */
export async function buildApp(options: KilnAppOptions): Promise<KilnApp> {
  const { model, settings, db } = options;
  let closing = false;
  const app = Fastify({
    logger: options.logStream ? { ...loggerOptions(settings.logLevel), stream: options.logStream } : loggerOptions(settings.logLevel),
    // One line per request is written by our own onResponse hook (observability.ts).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    bodyLimit: settings.bodyLimit,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      const server = createHttpServer(
        { maxHeaderSize: settings.maxHeaderSize, connectionsCheckingInterval: checkingInterval(settings.requestTimeoutMs) },
        handler,
      );
      server.requestTimeout = settings.requestTimeoutMs;
      server.headersTimeout = Math.min(settings.requestTimeoutMs || 60000, 60000);
      server.keepAliveTimeout = settings.keepAliveTimeoutMs;
      return server;
    },
    clientErrorHandler: clientError,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  app.removeContentTypeParser(['text/plain']);

  // Before helmet and CORS: a CORS preflight is answered in their onRequest hook and must carry the id too.
  installRequestLogging(app);
  installSecurityHeaders(app);
  await app.register(cors, {
    origin: settings.corsOrigins.length > 0 ? settings.corsOrigins : false,
    credentials: settings.corsCredentials,
    methods: [...HTTP_METHODS],
    exposedHeaders: ['etag', 'location', 'x-request-id', 'idempotent-replayed'],
    maxAge: 600,
  });

  const apiBase = `${settings.apiPrefix}/`;
  // Callback style, like every hook on the request path: an async hook costs a promise and a tick.
  app.addHook('onRequest', (req, reply, done) => {
    if (closing) {
      reply.header('connection', 'close');
      sendProblem(reply, new KilnError('KILN_SHUTTING_DOWN', { detail: 'this instance is shutting down; retry' }));
      return;
    }
    if (req.url.startsWith(apiBase) && !acceptsJson(req.headers.accept)) {
      sendProblem(reply, new KilnError('KILN_NOT_ACCEPTABLE', { detail: 'this API answers only application/json; send Accept: application/json' }));
      return;
    }
    done();
  });
  // A request still in flight when shutdown starts is answered, then its connection is closed: say so,
  // or a keep-alive client may send its next request on a connection that is about to go away.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  const errors = new DatabaseErrorMapper(model);
  const ops = new Operations(db, model, new CursorCodec(settings.cursorSecret), errors, { maxIncludePerParent: settings.pageMaxLimit });
  const methods = new MethodTable();
  const routeDeps = {
    ops,
    grammar: new QueryGrammar(model, { defaultLimit: settings.pageDefaultLimit, maxLimit: settings.pageMaxLimit }),
    bodies: new BodyValidator(model),
    serializers: new Serializers(model),
    prefix: settings.apiPrefix,
    bulkMaxItems: settings.bulkMaxItems,
    idempotencyTtlHours: settings.idempotencyTtlHours,
  };
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) methods.add(route.url, method);
  });
  for (const resource of model.resources) registerResourceRoutes(app, resource, routeDeps);
  registerHealth(app, db);
  const openapi = buildOpenApi(model, {
    title: options.title ?? 'Kiln API',
    version: options.version ?? '1.0.0',
    prefix: settings.apiPrefix,
    publicUrl: settings.publicUrl,
    defaultLimit: settings.pageDefaultLimit,
    maxLimit: settings.pageMaxLimit,
    bulkMaxItems: settings.bulkMaxItems,
  });
  if (settings.docs) registerDocs(app, options.title ?? 'Kiln API', openapi);
  installErrorHandling(app, methods);
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
    async close({ keepDatabase = false } = {}) {
      closing = true;
      clearInterval(sweeper);
      await app.close();
      if (!options.logStream) await flushStdoutLog();
      if (!keepDatabase) await db.close();
    },
  };
}

/**
 * Node checks request and header timeouts only every `connectionsCheckingInterval` (30 s by default),
 * so a slow client could hold a socket for up to timeout + 30 s. Check often enough to keep the limit.
 */
function checkingInterval(timeoutMs: number): number {
  return timeoutMs > 0 ? Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4))) : 30000;
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers too large, timeout,
 * unparsable request line), answered as problem+json with a request id, and logged under it.
 */
function clientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: 'KILN_HEADERS_TOO_LARGE' | 'KILN_REQUEST_TIMEOUT' | 'KILN_BAD_REQUEST' =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'KILN_HEADERS_TOO_LARGE' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'KILN_REQUEST_TIMEOUT' : 'KILN_BAD_REQUEST';
  const kilnError = new KilnError(code);
  const id = randomUUID();
  this.log.info({ reqId: id, status: kilnError.status, code, reason: error.code }, 'client error');
  const body = JSON.stringify(toProblem(kilnError, id));
  socket.end(
    `HTTP/1.1 ${kilnError.status} ${kilnError.title}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
  );
}
