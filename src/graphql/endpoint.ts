/**
 * POST and GET /graphql, served by graphql-http (the reference implementation of the GraphQL over
 * HTTP specification, by the author of graphql-ws) on the same Fastify app as REST. A request becomes
 * the same RequestContext a REST request does; a credential that cannot be verified is answered
 * before any GraphQL runs, with REST's problem+json (401 and WWW-Authenticate).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/fastify';
import type { Operations } from '../core/operations.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ContextOf } from '../rest/request-context.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphqlContext extends Record<PropertyKey, unknown> {
  readonly ctx: RequestContext;
  readonly ops: Operations;
}

export interface GraphqlEndpointOptions {
  readonly schema: GraphQLSchema;
  readonly ops: Operations;
  readonly contextOf: ContextOf;
  /** Run after graphql-js's own rules, before execution (depth, cost, aliases: src/graphql/limits.ts). */
  readonly validationRules?: readonly ValidationRule[];
}

export function registerGraphql(app: FastifyInstance, options: GraphqlEndpointOptions): void {
  const { ops, contextOf } = options;
  const extraRules = options.validationRules ?? [];
  const handler = createHandler<GraphqlContext>({
    schema: options.schema,
    context: async (req) => ({ ctx: await contextOf(req.raw as FastifyRequest), ops }),
    validationRules: (_req, _args, specified) => [...specified, ...extraRules],
  });
  app.route({ method: ['GET', 'POST'], url: GRAPHQL_PATH, handler });
}
