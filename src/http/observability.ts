import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FIXED_LIMITS } from '../core/limits.js';

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
  '*.password',
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
export function loggerOptions(level: string): Record<string, unknown> {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, stream: stdoutDestination() };
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

/** Writes the one log line of a request; `installRequestLogging` returns it for answers given before any hook runs. */
export type RequestLogger = (req: FastifyRequest, reply: FastifyReply) => void;

/**
 * X-Request-Id on every response, and one log line per request when it completes. Both hooks take a
 * callback rather than return a promise: they run on every request, and a promise costs a tick each.
 */
export function installRequestLogging(app: FastifyInstance): RequestLogger {
  // The request line carries only the fields below, none of which can hold a secret, so it is written
  // by a child logger without redaction: redacting costs more than writing the line. The line is the
  // same as `req.log` would write (reqId comes first, as a binding would).
  const requestLog = app.log.child({}, { redact: [] });
  const logRequest: RequestLogger = (req, reply) => {
    const url = req.url;
    const query = url.indexOf('?');
    requestLog.info(
      {
        reqId: req.id,
        method: req.method,
        route: req.routeOptions.url ?? null,
        path: query === -1 ? url : url.slice(0, query),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
  };
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    logRequest(req, reply);
    done();
  });
  return logRequest;
}
