/**
 * GraphQL errors in Kiln's terms. A KilnError keeps its meaning: `message` is its detail and
 * `extensions` carry its code, status and field errors, as REST's problem document does. Anything
 * else is a fault of the server: the client gets "Internal server error" (KILN_INTERNAL) and the
 * cause goes to the log under the request id, never to the client. A document that does not parse
 * or fit the schema is KILN_GRAPHQL_INVALID.
 */
import { type FieldNode, GraphQLError } from 'graphql';
import { KilnError } from '../core/errors.js';
import { toProblem } from '../core/problem.js';
import type { RequestContext } from '../pipeline/context.js';

export interface KilnErrorExtensions {
  readonly code: string;
  readonly status: number;
  readonly errors?: readonly { path: string; code: string; message: string }[];
}

const INTERNAL: KilnErrorExtensions = Object.freeze({ code: 'KILN_INTERNAL', status: 500 });
const INVALID: KilnErrorExtensions = Object.freeze({ code: 'KILN_GRAPHQL_INVALID', status: 400 });

/** Where in the document a response path is (see error-locations.ts). */
export type FieldNodesAt = (path: readonly (string | number)[]) => readonly FieldNode[];

/**
 * The errors of an executed operation in Kiln's terms; faults are logged with the request's logger.
 * `nodesAt` gives an error without locations those of the field its path names.
 */
export function executionErrors(errors: readonly GraphQLError[], ctx: RequestContext | undefined, nodesAt?: FieldNodesAt): GraphQLError[] {
  return errors.map((error) => executionError(located(error, nodesAt), ctx));
}

function located(error: GraphQLError, nodesAt: FieldNodesAt | undefined): GraphQLError {
  if (!nodesAt || error.nodes || !error.path) return error;
  const nodes = nodesAt(error.path);
  if (nodes.length === 0) return error;
  return new GraphQLError(error.message, { nodes, path: error.path, originalError: error.originalError, extensions: error.extensions });
}

function executionError(error: GraphQLError, ctx: RequestContext | undefined): GraphQLError {
  if (hasCode(error)) return error;
  const cause = error.originalError;
  if (cause instanceof KilnError) {
    // A fault the core already answered (a hook's bug, the database down): its cause is for the log only.
    if (cause.status >= 500) ctx?.log.error({ err: cause.cause ?? cause, code: cause.code, path: error.path?.join('.') }, 'GraphQL field failed');
    const problem = toProblem(cause, ctx?.requestId ?? '');
    const extensions: KilnErrorExtensions = { code: problem.code, status: problem.status, ...(problem.errors && { errors: problem.errors }) };
    return relocated(error, problem.detail, extensions);
  }
  // No path: the request itself was wrong (a variable of the wrong type), found before any field ran.
  if (error.path === undefined) return relocated(error, error.message, INVALID);
  ctx?.log.error({ err: cause ?? error, path: error.path?.join('.') }, 'GraphQL field failed');
  return relocated(error, 'Internal server error', INTERNAL);
}

/**
 * Every error graphql-http answers with goes through here last: those already mapped keep their
 * code, and the rest are errors of the request (it does not parse, does not fit the schema, names
 * no operation), which graphql-http only answers before running anything.
 */
export function formatError(error: Readonly<GraphQLError | Error>): GraphQLError {
  if (error instanceof GraphQLError) return hasCode(error) ? error : relocated(error, error.message, INVALID);
  return new GraphQLError(error.message, { extensions: { ...INVALID } });
}

function hasCode(error: GraphQLError): boolean {
  return typeof error.extensions?.code === 'string';
}

function relocated(error: GraphQLError, message: string, extensions: KilnErrorExtensions): GraphQLError {
  return new GraphQLError(message, {
    ...(error.nodes && { nodes: error.nodes }),
    ...(error.source && { source: error.source }),
    ...(error.positions && { positions: error.positions }),
    ...(error.path && { path: error.path }),
    extensions: { ...extensions },
  });
}
