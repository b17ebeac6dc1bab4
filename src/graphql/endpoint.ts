/**
 * POST and GET /graphql, served by graphql-http (the reference implementation of the GraphQL over
 * HTTP specification, by the author of graphql-ws) on the same Fastify app as REST. A request becomes
 * the same RequestContext a REST request does; a credential that cannot be verified is answered
 * before any GraphQL runs, with REST's problem+json (401 and WWW-Authenticate).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-http';
import type { Operations } from '../core/operations.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ContextOf } from '../rest/request-context.js';
import { DocumentCache } from './document-cache.js';
import { fieldNodesAt } from './error-locations.js';
import { executionErrors, formatError } from './errors.js';
import { okResponse } from './fast-response.js';
import { jitExecutor } from './jit-execute.js';
import type { GraphqlProtection } from './protection.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphqlContext extends Record<PropertyKey, unknown> {
  readonly ctx: RequestContext;
  readonly ops: Operations;
}

export interface GraphqlEndpointOptions {
  readonly schema: GraphQLSchema;
  readonly ops: Operations;
  readonly contextOf: ContextOf;
  /** What is refused before a document runs: depth, cost, aliases, introspection, untrusted documents (src/graphql/protection.ts). */
  readonly protection?: GraphqlProtection;
}

export function registerGraphql(app: FastifyInstance, options: GraphqlEndpointOptions): void {
  const { ops, contextOf, protection } = options;
  // Parsed and validated once per document text (src/graphql/document-cache.ts).
  const documents = new DocumentCache(protection?.parse);
  const handle = createHandler<FastifyRequest, undefined, GraphqlContext>({
    schema: options.schema,
    context: async (req) => ({ ctx: await contextOf(req.raw), ops }),
    validationRules: (_req, args, specified) => [...specified, ...(protection?.rules(args) ?? [])],
    ...(protection && { parseRequestParams: protection.parseRequestParams }),
    parse: documents.parse,
    validate: documents.validate,
    execute: jitExecutor(documents.isKept),
    // Errors in Kiln's terms (src/graphql/errors.ts): faults are logged with the request's logger, which only the context holds.
    // A result without errors is written without graphql-http's replacer (src/graphql/fast-response.ts).
    onOperation: (req, args, result) =>
      result.errors
        ? { ...result, errors: executionErrors(result.errors, args.contextValue?.ctx, (path) => fieldNodesAt(args.document, args.operationName, path)) }
        : okResponse(req.raw.headers.accept, result),
    formatError,
  });
  app.route({
    method: ['GET', 'POST'],
    url: GRAPHQL_PATH,
    // graphql-http's own Fastify adapter, but an error thrown goes to Kiln's error handler (a logged 500
    // problem), not to console.error, and a body is always typed.
    handler: async (req, reply) => {
      // Kiln's JSON parser has read a POST body (any JSON value: graphql-http refuses what is not an object).
      const parsed = (req.body ?? null) as Record<string, unknown> | null;
      const [body, init] = await handle({ method: req.method, url: req.url, headers: req.headers, body: parsed, raw: req, context: undefined });
      reply.status(init.status).headers(init.headers ?? {});
      // The 405 for a mutation over GET carries GraphQL errors as JSON but no Content-Type.
      if (body && !reply.hasHeader('content-type')) reply.type('application/json; charset=utf-8');
      return reply.send(body ?? undefined);
    },
  });
}
