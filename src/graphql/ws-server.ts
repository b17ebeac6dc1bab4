/**
 * GraphQL over WebSocket (the `graphql-transport-ws` protocol of graphql-ws) on /graphql, the path of
 * the HTTP endpoint: the Fastify server's `upgrade` event hands the socket to a `ws` server, which
 * graphql-ws drives. Subscriptions are its purpose; queries and mutations work too.
 *
 * The caller is authenticated once, when the connection starts, by the same authenticators as an HTTP
 * request: the upgrade request's headers (Authorization, the API key header, the session cookie), or
 * `connectionParams: { authorization: 'Bearer …' }` (browsers cannot set headers on a WebSocket).
 * Credentials that cannot be verified close the socket with 4403 and the error code as reason. The
 * session cookie counts only when the upgrade comes from this server's origin or an allowed CORS
 * origin: browsers send cookies on cross-site WebSocket handshakes, and no CORS check stops them.
 * Every document is validated with the HTTP endpoint's bounds (depth, cost, aliases: limits.ts) and,
 * under KILN_GRAPHQL_TRUSTED_ONLY, must be a trusted document's exact text; a connection holds at most MAX_SUBSCRIPTIONS_PER_CONNECTION operations at once.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { type DocumentNode, type GraphQLSchema, parse, validate } from 'graphql';
import type { Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { KilnError } from '../core/errors.js';
import type { Operations } from '../core/operations.js';
import { corsOriginMatchers } from '../http/cors-origins.js';
import { clientAddressReader } from '../http/trust-proxy.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ContextOf } from '../rest/request-context.js';
import { GRAPHQL_PATH, type GraphqlContext } from './endpoint.js';
import { executionErrors, formatError } from './errors.js';
import { graphqlRefusal, validateDocument } from './limits.js';
import type { GraphqlProtection } from './protection.js';
import { notTrusted } from './trusted-request.js';

/** Operations one WebSocket connection may run at once. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;
/** graphql-ws's close code for a connection it refuses. */
const FORBIDDEN = 4403;
/** Ping every 12 s; a client that does not answer by the next ping is dropped. */
const KEEP_ALIVE_MS = 12_000;

export interface SubscriptionServerOptions {
  readonly schema: GraphQLSchema;
  readonly ops: Operations;
  readonly contextOf: ContextOf;
  readonly protection?: GraphqlProtection;
  readonly log: FastifyBaseLogger;
  /** The header API keys come in (KILN_AUTH_API_KEY_HEADER), also accepted in connectionParams. */
  readonly authApiKeyHeader: string;
  /** KILN_CORS_ORIGINS: the other origins whose pages may use the session cookie. */
  readonly corsOrigins: readonly string[];
  /** The largest message accepted, in bytes (KILN_BODY_LIMIT). */
  readonly maxPayload: number;
  /** KILN_TRUST_PROXY: whose X-Forwarded-For names the client (what anonymous callers' rate limits key by). */
  readonly trustProxy: string;
}

export interface SubscriptionServer {
  /** Closes every socket with 1001 (going away) and stops accepting new ones. */
  close(): Promise<void>;
}

export function serveSubscriptions(server: Server, options: SubscriptionServerOptions): SubscriptionServer {
  const { schema, ops, protection } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  const callers = new WeakMap<object, RequestContext>();
  const origins = corsOriginMatchers(options.corsOrigins);
  const clientAddressOf = clientAddressReader(options.trustProxy);
  let closing = false;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The path without the query, compared as text: a malformed URL must not throw in an event handler.
    if (closing || (request.url ?? '').split('?')[0] !== GRAPHQL_PATH) {
      socket.end(`HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  const graphqlWs = useServer<Record<string, unknown> | undefined>(
    {
      isProd: true,
      onConnect: async (ctx) => {
        try {
          callers.set(ctx, await options.contextOf(upgradeRequest(ctx, options, origins, clientAddressOf)));
          return true;
        } catch (error) {
          if (!(error instanceof KilnError)) options.log.error({ err: error }, 'GraphQL WebSocket: authentication failed');
          const code = error instanceof KilnError ? error.code : 'KILN_INTERNAL';
          ctx.extra.socket.close(FORBIDDEN, code);
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const caller = callers.get(ctx);
        if (!caller) return [graphqlRefusal('KILN_UNAUTHENTICATED', 'the connection is not initialised')];
        if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          const message = `this connection already runs ${MAX_SUBSCRIPTIONS_PER_CONNECTION} operations; complete one first, or open another connection`;
          return [graphqlRefusal('KILN_SUBSCRIPTION_LIMIT', message)];
        }
        // The text itself travels over WebSocket (graphql-ws requires `query`): it must be one of the manifest's.
        if (protection?.untrusted(payload.query)) return [notTrusted('over WebSocket, send the exact text of a document of its manifest as `query`')];
        let document: DocumentNode;
        try {
          document = (protection?.parse ?? parse)(payload.query);
        } catch (error) {
          return [formatError(error as Error)];
        }
        const request = { variables: payload.variables, operationName: payload.operationName };
        const errors = protection ? validateDocument(schema, document, protection.limits, request) : validate(schema, document);
        if (errors.length > 0) return errors.map(formatError);
        const contextValue: GraphqlContext = { ctx: caller, ops };
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      },
      onNext: (ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: executionErrors(result.errors, callers.get(ctx)).map((e) => e.toJSON()) } : undefined,
      onError: (ctx, _id, _payload, errors) => executionErrors(errors, callers.get(ctx)).map((e) => e.toJSON()),
    },
    wss,
    KEEP_ALIVE_MS,
  );

  return {
    async close() {
      closing = true;
      server.off('upgrade', onUpgrade);
      await graphqlWs.dispose();
    },
  };
}

/**
 * The upgrade request as the authenticators read a request: its headers, with connectionParams'
 * `authorization` and API key over them, and without a cookie a foreign page's handshake carried.
 */
function upgradeRequest(
  ctx: Context<Record<string, unknown> | undefined, { request: IncomingMessage }>,
  options: SubscriptionServerOptions,
  origins: (string | RegExp)[],
  clientAddressOf: (request: IncomingMessage) => string,
): FastifyRequest {
  const request = ctx.extra.request;
  const headers: Record<string, string | string[] | undefined> = { ...request.headers };
  if (headers.cookie !== undefined && !sameOrAllowedOrigin(request, origins)) delete headers.cookie;
  const params = ctx.connectionParams ?? {};
  for (const [name, value] of Object.entries(params)) {
    const key = name.toLowerCase();
    if (typeof value === 'string' && (key === 'authorization' || key === options.authApiKeyHeader.toLowerCase())) headers[key] = value;
  }
  const id = randomUUID();
  // What contextFactory and the authenticators read of a Fastify request; the socket has no other.
  return { id, log: options.log.child({ reqId: id }), headers, ip: clientAddressOf(request), method: 'GET' } as unknown as FastifyRequest;
}

function sameOrAllowedOrigin(request: IncomingMessage, origins: readonly (string | RegExp)[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    if (new URL(origin).host === request.headers.host) return true;
  } catch {
    return false;
  }
  return origins.some((allowed) => (typeof allowed === 'string' ? allowed === origin : allowed.test(origin)));
}
