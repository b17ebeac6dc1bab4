import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FIXED_LIMITS } from '../core/limits.js';
import type { Database } from '../db/database.js';
import { type SqlLogger, type SqlLogMode, sqlLogListener } from '../db/sql-log.js';
import { prettyLogStream } from './pretty-log.js';

const REQUEST_ID = new RegExp(`^[A-Za-z0-9._:-]{1,${FIXED_LIMITS.requestIdLength}}$`);

/** Keeps a caller's X-Request-Id when it is safe to echo and log; otherwise makes one. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Paths that may hold secrets, removed from every log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  // Authentication's own headers (an API key sent in a header other than x-api-key, through
  // KILN_AUTH_API_KEY_HEADER, is not covered: request headers are not logged by Kiln itself).
  'req.headers["x-api-key"]',
  'req.headers["x-csrf-token"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.passwordHash',
  '*.token',
  '*.secret',
  '*.authorization',
  '*["proxy-authorization"]',
  '*.cookie',
  '*["set-cookie"]',
];

/**
 * Fastify's logger options; without a stream of their own, lines go to stdout written asynchronously:
 * a synchronous write costs a system call per request, while pino's asynchronous destination writes
 * whatever lines accumulated during the previous write in one call, and flushes on exit.
 */
export function loggerOptions(level: string, stream: NodeJS.WritableStream = stdoutDestination()): Record<string, unknown> {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, stream };
}

/** Where log lines go without a stream of the application's own: stdout, buffered (below). */
export function defaultLogDestination(): NodeJS.WritableStream {
  return stdoutDestination();
}

/** KILN_LOG_FORMAT: `auto` is pretty when stdout is a terminal (a developer reads it), JSON otherwise (a collector reads it). */
export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * The stream the logger writes to: `stream` (tests, embedding applications) or stdout, as JSON, or
 * through the pretty printer (pretty-log.ts) when the format asks for it. `auto` with a stream of the
 * application's own stays JSON: the application reads the lines, not a terminal.
 */
export function logDestinationFor(format: LogFormat, stream?: NodeJS.WritableStream): NodeJS.WritableStream {
  const pretty = format === 'pretty' || (format === 'auto' && !stream && process.stdout.isTTY === true);
  if (!pretty) return stream ?? stdoutDestination();
  return prettyLogStream(stream ? { destination: stream, colorize: false } : { colorize: process.stdout.isTTY === true && !process.env.NO_COLOR });
}

/**
 * Lines are buffered until 8 KiB have accumulated or 250 ms have passed: one write system call
 * (on libuv's thread pool) per line cost several µs of CPU per request under load. Closing the
 * server flushes the buffer (flushStdoutLog), and pino flushes it when the process exits.
 */
const FLUSH_BYTES = 8 * 1024;
const FLUSH_EVERY_MS = 250;

type Destination = NodeJS.WritableStream & { flush(cb: (error?: Error) => void): void };
let stdout: Destination | undefined;
function stdoutDestination(): Destination {
  if (!stdout) {
    // The pino Fastify depends on (the logger is Fastify's); `destination` is its documented way to write asynchronously.
    const pino = createRequire(createRequire(import.meta.url).resolve('fastify'))('pino') as {
      destination(options: { dest: number; sync: boolean; minLength: number; periodicFlush: number }): Destination;
    };
    stdout = pino.destination({ dest: 1, sync: false, minLength: FLUSH_BYTES, periodicFlush: FLUSH_EVERY_MS });
  }
  return stdout;
}

/** Writes out the log lines still buffered; bounded, so a stuck stdout cannot hold up shutdown. */
export function flushStdoutLog(timeoutMs = 1000): Promise<void> {
  const destination = stdout;
  if (!destination) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(done, timeoutMs);
    destination.flush(() => {
      clearTimeout(timer);
      done();
    });
  });
}

/** Characters a URL path may hold that JSON does not escape. */
const PLAIN_PATH = /^[\w\-./:%~!$&'()*+,;=@]*$/;

/** Writes the one log line of a request; `installRequestLogging` returns it for answers given before any hook runs. */
export type RequestLogger = (req: FastifyRequest, reply: FastifyReply) => void;

/**
 * One log line per request when it completes, in pino's format (level, time, pid, hostname, then the
 * request's fields), written straight to the logger's destination. The line carries only the fields
 * below, none of which can hold a secret, so it needs none of pino's redaction; building it by hand
 * saves pino's generic serialisation on every request. reqId is a safe id (see requestId), method and
 * status cannot need escaping, and route and path are written through JSON.stringify.
 * The hook takes a callback rather than return a promise: it runs on every request, and a promise costs a tick.
 */
export function installRequestLogging(app: FastifyInstance, destination: NodeJS.WritableStream): RequestLogger {
  const prefix = `{"level":30,"time":`;
  const base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"reqId":"`;
  // Route templates repeat: each is escaped once. Paths are written as they are when they need no escaping.
  const routes = new Map<string | undefined, string>();
  const logRequest: RequestLogger = (req, reply) => {
    if (!(app.log as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('info')) return;
    const url = req.url;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const template = req.routeOptions.url;
    let route = routes.get(template);
    if (route === undefined) {
      route = template === undefined ? 'null' : JSON.stringify(template);
      if (routes.size < 10_000) routes.set(template, route);
    }
    destination.write(
      `${prefix}${Date.now()}${base}${req.id}","method":"${req.method}","route":${route},` +
        `"path":${PLAIN_PATH.test(path) ? `"${path}"` : JSON.stringify(path)},"status":${reply.statusCode},` +
        `"durationMs":${Math.round(reply.elapsedTime * 100) / 100},"msg":"request"}\n`,
    );
  };
  app.addHook('onResponse', (req, reply, done) => {
    logRequest(req, reply);
    done();
  });
  return logRequest;
}

/**
 * KILN_LOG_SQL (src/db/sql-log.ts): each statement is logged through the logger of the request that
 * ran it, so its line carries the request id. The request is found through an AsyncLocalStorage
 * entered before the handler; hook and storage exist only when the log is on, so requests pay
 * nothing for it otherwise. Returns the remover of the database listener.
 */
export function installSqlLog(app: FastifyInstance, db: Database, mode: SqlLogMode): () => void {
  if (mode === '0') return () => {};
  const requests = new AsyncLocalStorage<SqlLogger>();
  // preHandler rather than onRequest: the handler is called from this hook's callback, after the
  // body has been read, so the storage is current for every statement the operation runs.
  app.addHook('preHandler', (req, _reply, done) => requests.run(req.log, done));
  return db.observe(sqlLogListener(mode, () => requests.getStore() ?? app.log));
}

type LogMethod = (...args: unknown[]) => void;
type PinoLike = Record<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', LogMethod> & {
  child(bindings: object, options?: object): PinoLike;
  isLevelEnabled(level: string): boolean;
  level: string;
};

/**
 * Fastify gives every request a child logger (`req.log`, bound to the request id). Creating a pino
 * child with redaction costs several µs, on every request, though most requests never log through it
 * (the request line is written by installRequestLogging). This child is created when a line is
 * actually written at an enabled level.
 */
class DeferredChildLogger {
  readonly #parent: PinoLike;
  readonly #bindings: object;
  readonly #options: object;
  #child: PinoLike | undefined;

  constructor(parent: PinoLike, bindings: object, options: object) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: unknown[]): void {
    if (!this.#parent.isLevelEnabled(level)) return;
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    this.#child[level](...args);
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: object, options?: object): PinoLike {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child.child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return this.#parent.isLevelEnabled(level);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }
}

/** Fastify's `childLoggerFactory`: request loggers created on first use (see DeferredChildLogger). */
export function deferredChildLogger(logger: unknown, bindings: object, options: object): never {
  return new DeferredChildLogger(logger as PinoLike, bindings, options) as never;
}
