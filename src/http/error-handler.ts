import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError } from '../core/errors.js';
import { toProblem } from '../core/problem.js';
import type { MethodTable } from '../rest/method-table.js';

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(reply: FastifyReply, error: KilnError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply
    .code(error.status)
    .type(PROBLEM_TYPE)
    .send(JSON.stringify(toProblem(error, String(reply.request.id))));
}

/** Fastify's own errors (body parsing and limits) mapped to registered codes. */
function fromFastify(error: FastifyError): KilnError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KilnError('KILN_BODY_TOO_LARGE', { detail: 'the request body is larger than the server accepts' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KilnError('KILN_UNSUPPORTED_MEDIA_TYPE', { detail: 'send the body as application/json' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KilnError('KILN_BODY_MISSING', { detail: 'Content-Type is application/json but the body is empty' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new KilnError('KILN_BODY_MALFORMED', { detail: 'the body is not valid JSON' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new KilnError('KILN_BAD_REQUEST', { detail: 'Content-Length does not match the body' });
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new KilnError('KILN_BODY_MALFORMED', { detail: 'the body is not valid JSON' });
  }
  return undefined;
}

/**
 * Every error leaves as problem+json. Unknown errors are logged with the request id and answered
 * with a generic 500: no stack, SQL or driver text reaches the client.
 */
export function installErrorHandling(app: FastifyInstance, methods: MethodTable): void {
  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const known = error instanceof KilnError ? error : fromFastify(error);
    if (known) {
      if (known.status >= 500) req.log.error({ err: error.cause ?? error }, known.code);
      return sendProblem(reply, known);
    }
    req.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, new KilnError('KILN_INTERNAL', { detail: 'an unexpected error occurred; the server log has the cause under this request id' }));
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = methods.allowed(path);
    if (allowed && !allowed.includes(req.method)) {
      return sendProblem(
        reply,
        new KilnError('KILN_METHOD_NOT_ALLOWED', { detail: `${req.method} is not allowed on ${path}`, headers: { allow: allowed.join(', ') } }),
      );
    }
    return sendProblem(reply, new KilnError('KILN_ROUTE_NOT_FOUND', { detail: `no route for ${req.method} ${path.slice(0, 200)}` }));
  });
}
