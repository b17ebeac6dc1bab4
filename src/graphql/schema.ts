/**
 * The GraphQL schema of a model: object types, filter and order inputs, list and by-id queries,
 * relation fields with their own arguments, and mutations. Resolvers only translate: a root field's
 * arguments and selection set become the same ListArgs/SelectionArgs REST builds from a query string
 * (src/pipeline/parse.ts), and the core operations do the rest, so validation, rules, limits, errors
 * and transactions are REST's own. Built once at start-up; docs/reference/graphql.md describes it.
 */
import { type GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { SETTINGS } from '../config/settings.js';
import type { CompiledModel } from '../core/compiled-model.js';
import type { Limits } from '../core/limits.js';
import type { Resource } from '../model/ir.js';
import { BuildContext } from './build-context.js';
import { FilterTypes } from './filters.js';
import { mutationFields } from './mutations.js';
import { GraphqlNames, type ResourceNames } from './names.js';
import { ObjectTypes } from './object-types.js';
import { queryFields } from './queries.js';
import { SortTypes } from './sort.js';

export { filterArgsOf } from './filters.js';

/** What other parts of the GraphQL surface (subscriptions) build on: the types made for each resource. */
export interface GraphqlTypes {
  /** The object type of a resource's records. */
  objectOf(resource: string): GraphQLObjectType;
  /** The `<Type>Filter` input of a resource; filterArgsOf turns its values into the operations' filters. */
  filterOf(resource: string): GraphQLInputObjectType;
  /** The names given to a resource's types and root fields. */
  namesOf(resource: string): ResourceNames;
}

export interface GraphqlSchemaOptions {
  /** The limits in force: their defaults become the list arguments' defaults. The settings' defaults when absent. */
  readonly limits?: Limits;
  /** Extra root fields (the subscriptions), given the types made for the model. */
  readonly extend?: (types: GraphqlTypes) => { readonly subscription?: GraphQLObjectType };
}

const DEFAULT_LIMITS: Limits = Object.freeze({
  pageDefaultLimit: SETTINGS.pageDefaultLimit.default,
  pageMaxLimit: SETTINGS.pageMaxLimit.default,
  bulkMaxItems: SETTINGS.bulkMaxItems.default,
  includeMaxDepth: SETTINGS.includeMaxDepth.default,
  includeLimit: SETTINGS.includeLimit.default,
  includeMaxRows: SETTINGS.includeMaxRows.default,
  textMaxLength: SETTINGS.textMaxLength.default,
});

export function buildGraphqlSchema(compiled: CompiledModel, options: GraphqlSchemaOptions = {}): GraphQLSchema {
  const model = compiled.model;
  const build = new BuildContext(compiled, new GraphqlNames(model.resources), options.limits ?? DEFAULT_LIMITS);
  const filters = new FilterTypes(build);
  const sorts = new SortTypes(build);
  const objects = new ObjectTypes(build, filters, sorts);
  const resource = (name: string): Resource => build.resource(name);
  const types: GraphqlTypes = {
    objectOf: (name) => objects.objectOf(resource(name)),
    filterOf: (name) => filters.of(resource(name)),
    namesOf: (name) => build.names.of(name),
  };
  const query = new GraphQLObjectType({ name: 'Query', fields: () => queryFields(build, objects, filters, sorts) });
  const mutation = new GraphQLObjectType({ name: 'Mutation', fields: () => mutationFields(build, objects) });
  const extension = options.extend?.(types) ?? {};
  return new GraphQLSchema({ query, mutation, ...(extension.subscription && { subscription: extension.subscription }) });
}
