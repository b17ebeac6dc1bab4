/**
 * Where GET /metrics is served. By default on a listener of its own (KILN_METRICS_HOST, 127.0.0.1,
 * and KILN_METRICS_PORT): the metrics name routes, resources and load, so they stay off the public
 * port, and Prometheus scrapes the instance from its own network. With KILN_METRICS_TOKEN, where only
 * the public port can be reached (a platform that exposes one port), it is served there instead, to
 * `Authorization: Bearer <token>` only.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { StartupError } from '../config/startup-error.js';
import { KilnError } from '../core/errors.js';
import { toProblem } from '../core/problem.js';
import { PROBLEM_TYPE, sendProblem } from '../http/error-handler.js';
import { API_SECURITY_HEADERS } from '../http/security-headers.js';

/** The metrics in the Prometheus text format, and its content type. */
export type MetricsSource = () => Promise<{ readonly contentType: string; readonly body: string }>;

/** GET /metrics on the public port, for the bearer of `token` only; anyone else gets 401 KILN_UNAUTHENTICATED. */
export function registerMetricsRoute(app: FastifyInstance, source: MetricsSource, token: string): void {
  const expected = digest(token);
  app.get('/metrics', async (req, reply) => {
    const given = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      return sendProblem(reply, new KilnError('KILN_UNAUTHENTICATED', { detail: 'GET /metrics needs Authorization: Bearer with KILN_METRICS_TOKEN' }));
    }
    const { contentType, body } = await source();
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });
}

export interface MetricsListener {
  /** `http://host:port`: the metrics are at `${url}/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A plain HTTP listener that answers GET /metrics and nothing else (problem+json 404 or 405). A port
 * already in use fails the start with a StartupError naming the setting.
 */
export async function listenForMetrics(host: string, port: number, source: MetricsSource, problemTypeBase: string): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics')
      return answerProblem(res, new KilnError('KILN_ROUTE_NOT_FOUND', { detail: 'this listener serves only GET /metrics' }), problemTypeBase);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return answerProblem(res, new KilnError('KILN_METHOD_NOT_ALLOWED', { detail: `${req.method} is not allowed on /metrics; use GET` }), problemTypeBase);
    }
    source().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => answerProblem(res, new KilnError('KILN_INTERNAL', { detail: 'the metrics could not be collected' }), problemTypeBase),
    );
  });
  // A scrape is one short request: no connection needs to outlive it for long.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          error.code === 'EADDRINUSE'
            ? `the metrics port ${host}:${port} is already in use: set KILN_METRICS_PORT to a free port (or 0), or serve the metrics on the public port with KILN_METRICS_TOKEN`
            : `the metrics listener could not listen on ${host}:${port} (${error.code ?? error.message}): check KILN_METRICS_HOST and KILN_METRICS_PORT`,
          { cause: error },
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function answerProblem(res: ServerResponse, error: KilnError, problemTypeBase: string): void {
  const id = randomUUID();
  const body = JSON.stringify(toProblem(error, id, problemTypeBase));
  res.writeHead(error.status, { ...API_SECURITY_HEADERS, 'content-type': PROBLEM_TYPE, 'x-request-id': id, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
