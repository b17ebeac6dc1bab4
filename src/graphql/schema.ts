/**
 * The GraphQL schema of a model: object types, filter and order inputs, list and by-id queries,
 * relation fields with their own arguments, and mutations. Resolvers only translate: a root field's
 * arguments and selection set become the same ListArgs/SelectionArgs REST builds from a query string
 * (src/pipeline/parse.ts), and the core operations do the rest, so validation, rules, limits, errors
 * and transactions are REST's own.
 */
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import type { CompiledModel } from '../core/compiled-model.js';

/** What other parts of the GraphQL surface (subscriptions) build on: the types made for each resource. */
export interface GraphqlTypes {
  /** The object type of a resource's records. */
  objectOf(resource: string): GraphQLObjectType;
}

export interface GraphqlSchemaOptions {
  /** Extra root fields (the subscriptions), given the types made for the model. */
  readonly extend?: (types: GraphqlTypes) => { readonly subscription?: GraphQLObjectType };
}

export function buildGraphqlSchema(_compiled: CompiledModel, _options: GraphqlSchemaOptions = {}): GraphQLSchema {
  // Placeholder until the schema builder lands: a schema with one field so the endpoint can be wired.
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { kiln: { type: GraphQLString, resolve: () => 'kiln' } } }),
  });
}
