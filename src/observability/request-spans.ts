/**
 * The spans of a traced app (trace-sdk.ts): one SERVER span per HTTP request, continuing the caller's
 * trace when it sends a W3C `traceparent`, and one CLIENT span per SQL statement the request runs,
 * its child. Attributes follow the OpenTelemetry semantic conventions for HTTP servers and database
 * clients (https://opentelemetry.io/docs/specs/semconv/), plus `kiln.request_id`, the X-Request-Id
 * of the response, to go from a log line to its trace and back.
 *
 * What never goes on a span: the query string and the body (filters and fields may hold personal
 * data), headers, and SQL parameter values; `db.query.text` is the parameterised statement.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Attributes, defaultTextMapGetter, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database, StatementListener } from '../db/database.js';

/** Methods the semantic conventions name; any other is reported as `_OTHER`. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);

/** Installs the hooks and the statement listener; returns the remover of the listener (hooks go with the app). */
export function installRequestSpans(app: FastifyInstance, db: Database, tracer: Tracer): () => void {
  const propagator = new W3CTraceContextPropagator();
  const spans = new WeakMap<FastifyRequest, Span>();
  // The span of the request whose handler is running, for the statements it runs to find their parent.
  const current = new AsyncLocalStorage<Span>();

  app.addHook('onRequest', (req, _reply, done) => {
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    spans.set(req, tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: requestAttributes(req) }, parent));
    done();
  });
  // preHandler, like the SQL log (http/observability.ts): the handler runs from this hook's callback,
  // after the body has been read, so the storage is current for every statement the operation runs.
  app.addHook('preHandler', (req, _reply, done) => {
    const span = spans.get(req);
    // A request not sampled has no statement spans either: no storage to enter.
    if (span === undefined || !span.isRecording()) done();
    else current.run(span, done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    endRequestSpan(spans, req, reply);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    const span = spans.get(req);
    spans.delete(req);
    span?.setAttribute('error.type', 'aborted');
    span?.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response' });
    span?.end();
    done();
  });
  return db.observe(statementSpans(tracer, current));
}

function requestAttributes(req: FastifyRequest): Attributes {
  const query = req.url.indexOf('?');
  const method = KNOWN_METHODS.has(req.method) ? req.method : '_OTHER';
  const attributes: Attributes = {
    'http.request.method': method,
    'url.path': query === -1 ? req.url : req.url.slice(0, query),
    'url.scheme': req.protocol,
    'kiln.request_id': req.id,
  };
  if (method === '_OTHER') attributes['http.request.method_original'] = req.method;
  return attributes;
}

/** Names the span after the route pattern (`GET /v1/posts/:id`), never the path: a name must not vary with ids. */
function endRequestSpan(spans: WeakMap<FastifyRequest, Span>, req: FastifyRequest, reply: FastifyReply): void {
  const span = spans.get(req);
  if (span === undefined) return;
  spans.delete(req);
  const method = KNOWN_METHODS.has(req.method) ? req.method : 'HTTP';
  const route = req.routeOptions.url;
  const status = reply.statusCode;
  if (route !== undefined) {
    span.updateName(`${method} ${route}`);
    span.setAttribute('http.route', route);
  }
  span.setAttribute('http.response.status_code', status);
  // A 4xx is the client's error, not the server's: only a 5xx marks the server span failed.
  if (status >= 500) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * A span per statement, made when the statement has ended (the listener is told then, with its
 * duration) and back-dated to its start. Only statements of a recorded request get one: the
 * background ones (sweeps, migrations) would be traces of a single span each.
 */
function statementSpans(tracer: Tracer, current: AsyncLocalStorage<Span>): StatementListener {
  return {
    statement(text, _values, durationMs) {
      const parent = current.getStore();
      if (parent === undefined || !parent.isRecording()) return;
      // performance.now() times: the SDK converts them with the clock it gives the request span, so
      // the statement sits inside its request on the trace (Date.now() would be off by clock drift).
      const ended = performance.now();
      const operation = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
      tracer
        .startSpan(
          operation,
          {
            kind: SpanKind.CLIENT,
            startTime: ended - durationMs,
            attributes: { 'db.system': 'postgresql', 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.query.text': text },
          },
          trace.setSpan(ROOT_CONTEXT, parent),
        )
        .end(ended);
    },
  };
}
