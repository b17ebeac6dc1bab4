/**
 * The bounds of /graphql where REST clients already read Kiln's bounds: the OpenAPI document. /graphql
 * is a path item of its own, with no operation (GraphQL's schema, not OpenAPI, describes what it
 * serves: `kiln graphql` prints it), whose description states the bounds and whose `x-kiln-limits`
 * gives them to tools.
 */
import type { JsonSchema } from '../core/schemas.js';
import { GRAPHQL_PATH } from './endpoint.js';
import type { GraphqlProtection } from './protection.js';

export function graphqlPaths(protection: GraphqlProtection): Record<string, JsonSchema> {
  const { limits, trustedOnly } = protection;
  const description = [
    'The GraphQL API (GraphQL over HTTP: POST with a JSON body, or GET for queries), served from the same operations, rules and limits as REST. Its schema: `kiln graphql`, or introspection where it is on.',
    `Every document is checked before it runs, and refused with the error code in \`extensions.code\`: at most ${limits.maxDepth} levels of nested fields (KILN_GRAPHQL_TOO_DEEP), a cost of at most ${limits.maxCost} (KILN_GRAPHQL_TOO_COSTLY: each field costs 1, and the elements of a list their selection times its \`limit\` or number of \`inputs\`), at most ${limits.maxAliases} aliased fields (KILN_GRAPHQL_TOO_MANY_ALIASES) and at most ${limits.maxOperations} operations in one document (KILN_GRAPHQL_TOO_MANY_OPERATIONS).`,
    limits.introspection
      ? 'Introspection (`__schema`, `__type`) is on.'
      : 'Introspection (`__schema`, `__type`) is off (KILN_GRAPHQL_INTROSPECTION_DISABLED); `__typename` works.',
    trustedOnly
      ? 'Only trusted documents run: send `documentId` (the sha256 of a document of the manifest), not `query` (KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED).'
      : 'A trusted document may be sent by `documentId` (or `extensions.persistedQuery.sha256Hash`) instead of `query` when the server has a manifest.',
  ].join('\n\n');
  return {
    [GRAPHQL_PATH]: {
      summary: 'GraphQL API',
      description,
      'x-kiln-limits': {
        maxDepth: limits.maxDepth,
        maxCost: limits.maxCost,
        maxAliases: limits.maxAliases,
        maxOperations: limits.maxOperations,
        introspection: limits.introspection,
        trustedDocumentsOnly: trustedOnly,
      },
    },
  };
}
