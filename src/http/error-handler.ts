import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, KilnError } from '../core/errors.js';
import { toProblem } from '../core/problem.js';
import type { MethodTable } from '../rest/method-table.js';
import type { FaultLog } from './fault-log.js';

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Retry-After (seconds) of each 503, unless the error sets its own. A lost connection is replaced on
 * the next request and a restart takes a few seconds: 2. A statement timeout means a busy database
 * or a heavy query, and an immediate retry adds to the load: 5. An instance shutting down is replaced
 * behind the load balancer at once: 1. An overloaded instance (load shedding) is judged again every 100 ms: 1.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  KILN_DATABASE_UNAVAILABLE: 2,
  KILN_DATABASE_TIMEOUT: 5,
  KILN_SHUTTING_DOWN: 1,
  KILN_OVERLOADED: 1,
  KILN_REDIS_UNAVAILABLE: 2,
};

declare module 'fastify' {
  interface FastifyInstance {
    /** The start of every problem `type` this server answers with (KILN_PROBLEM_TYPE_BASE); see useProblemTypeBase. */
    readonly problemTypeBase?: string;
  }
}

/**
 * Sets the problem `type` base of a server. A decoration, not a module variable: two servers in one
 * process (tests, a script beside `kiln serve`) may use different bases; child contexts inherit it.
 */
export function useProblemTypeBase(app: FastifyInstance, base: string): void {
  app.decorate('problemTypeBase', base);
}

export function sendProblem(reply: FastifyReply, error: KilnError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  const retryAfter = RETRY_AFTER_SECONDS[error.code as ErrorCode];
  if (retryAfter !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfter));
  // RFC 9110: every 401 names the scheme that would be accepted (wrong password, spent refresh token, …).
  if (error.status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer realm="kiln"');
  return reply
    .code(error.status)
    .type(PROBLEM_TYPE)
    .send(JSON.stringify(toProblem(error, String(reply.request.id), reply.server.problemTypeBase)));
}

/**
 * Fastify's own errors mapped to registered codes, each with a detail of its own: the URL the
 * router could not read, the limits, the body stream. `url` is the request's, quoted only as an
 * excerpt (urlExcerpt). Unknown 4xx errors of Fastify are a bad request naming Fastify's code;
 * anything else is left to the caller as an internal error.
 */
export function fromFastify(error: FastifyError, url: string): KilnError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KilnError('KILN_BODY_TOO_LARGE', { detail: 'the request body is larger than the server accepts' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KilnError('KILN_UNSUPPORTED_MEDIA_TYPE', { detail: 'send the body as application/json' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new KilnError('KILN_BAD_REQUEST', { detail: 'Content-Length does not match the body' });
    case 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE':
      // Fastify checks this for a QUERY request before routing it (RFC 10008), even to no route.
      return new KilnError('KILN_BAD_REQUEST', { detail: 'a QUERY request must send a Content-Type header' });
    case 'FST_ERR_BAD_URL':
      return new KilnError('KILN_BAD_REQUEST', { detail: badUrlDetail(url) });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new KilnError('KILN_URI_TOO_LONG', { detail: longSegmentDetail(url) });
  }
  const status = error.statusCode ?? 500;
  if (status >= 500) return undefined;
  if (error.code?.startsWith('FST_ERR_')) return new KilnError('KILN_BAD_REQUEST', { detail: `the request could not be processed (${error.code})` });
  // The body stream failed while Fastify read it (it marks such errors 400): the client went away mid-body.
  return new KilnError('KILN_BAD_REQUEST', {
    detail: error.code === 'ECONNRESET' ? 'the connection closed before the request body was complete' : 'the request body could not be read',
  });
}

/** Path parameters longer than this are refused by the router with 414 (maxParamLength). */
export const MAX_PARAM_LENGTH = 200;

const pathOf = (url: string): string => url.split('?', 1)[0] ?? '/';

/** Which segment of the path is not valid percent-encoded UTF-8 (decodeURIComponent refuses the same ones as the router). */
function badUrlDetail(url: string): string {
  const bad = pathOf(url)
    .split('/')
    .find((segment) => {
      try {
        decodeURIComponent(segment);
        return false;
      } catch {
        return true;
      }
    });
  return `the path${bad === undefined ? '' : ` segment "${urlExcerpt(bad, 40)}"`} is not valid percent-encoding: write each reserved or non-ASCII character as %XX, the bytes of its UTF-8 encoding`;
}

function longSegmentDetail(url: string): string {
  const long = pathOf(url)
    .split('/')
    .find((segment) => segment.length > MAX_PARAM_LENGTH);
  if (long === undefined) return `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`;
  return `the path segment "${urlExcerpt(long, 20)}" is ${long.length} characters long; ids and other path parameters are at most ${MAX_PARAM_LENGTH}`;
}

/**
 * A piece of the request URL fit to quote in a problem: at most `max` characters (then "…"), and
 * only characters a URL may hold (RFC 3986); any other byte is shown as %XX, so nothing a client
 * sent is echoed raw (quotes, controls, markup).
 */
export function urlExcerpt(text: string, max: number): string {
  const safe = text.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]%]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 256 ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : '?';
  });
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

/**
 * Every error leaves as problem+json. Unknown errors are answered with a generic 500: no stack, SQL
 * or driver text reaches the client. The cause of every ≥ 500 goes to the fault log, which writes it
 * once under the first request's id and counts the repeats (an outage fails every request alike).
 */
export function installErrorHandling(app: FastifyInstance, methods: MethodTable, faults: FaultLog): void {
  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const known = error instanceof KilnError ? error : fromFastify(error, req.url);
    if (known) {
      if (known.status >= 500) faults.record(known.code, known.cause, { log: req.log });
      return sendProblem(reply, known);
    }
    faults.record('KILN_INTERNAL', error, { log: req.log, msg: 'unhandled error', stack: true });
    return sendProblem(reply, new KilnError('KILN_INTERNAL', { detail: 'an unexpected error occurred; the server log has the cause under this request id' }));
  });

  app.setNotFoundHandler((req, reply) => {
    const path = pathOf(req.url);
    const allowed = methods.allowed(path);
    if (allowed && !allowed.includes(req.method)) {
      return sendProblem(
        reply,
        new KilnError('KILN_METHOD_NOT_ALLOWED', {
          detail: `${req.method} is not allowed on ${urlExcerpt(path, 200)}`,
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return sendProblem(reply, new KilnError('KILN_ROUTE_NOT_FOUND', { detail: `no route for ${req.method} ${urlExcerpt(path, 200)}` }));
  });
}
