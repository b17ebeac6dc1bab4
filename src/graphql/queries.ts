/**
 * The root query fields of each resource: `posts` (a page of a list) and `post(id)` (one record).
 * Each turns its arguments and its whole selection into one call of the operation REST's GET calls.
 */
import { GraphQLBoolean, type GraphQLFieldConfig, GraphQLID, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLString } from 'graphql';
import type { FieldError } from '../core/errors.js';
import { KilnError } from '../core/errors.js';
import { FIXED_LIMITS } from '../core/limits.js';
import type { Resource } from '../model/ir.js';
import type { ListArgs } from '../pipeline/parse.js';
import type { BuildContext } from './build-context.js';
import type { GraphqlContext } from './endpoint.js';
import { type FilterTypes, filterArgsOf } from './filters.js';
import type { ObjectTypes, PageValue } from './object-types.js';
import { childFields, recordSelection } from './selection.js';
import { type SortTypes, sortArgsOf } from './sort.js';

type Field = GraphQLFieldConfig<unknown, GraphqlContext>;

export function queryFields(build: BuildContext, objects: ObjectTypes, filters: FilterTypes, sorts: SortTypes): Record<string, Field> {
  const fields: Record<string, Field> = {};
  for (const resource of build.compiled.model.resources) {
    const names = build.names.of(resource);
    fields[names.list] = listField(build, resource, objects, filters, sorts);
    fields[names.byId] = byIdField(build, resource, objects);
  }
  return fields;
}

function listField(build: BuildContext, resource: Resource, objects: ObjectTypes, filters: FilterTypes, sorts: SortTypes): Field {
  const { pageDefaultLimit, pageMaxLimit } = build.limits;
  return {
    type: objects.pageOf(resource),
    description: resource.description ?? `A page of ${resource.name}.`,
    args: {
      filter: { type: filters.of(resource) },
      sort: { type: new GraphQLList(new GraphQLNonNull(sorts.of(resource))) },
      limit: { type: GraphQLInt, defaultValue: pageDefaultLimit, description: `Records per page: 1 to ${pageMaxLimit}.` },
      after: { type: GraphQLString, description: 'The `page.nextCursor` of the previous page, with the same filter and sort.' },
      count: { type: GraphQLBoolean, defaultValue: false, description: 'Also count every matching record, in `page.total`.' },
    },
    resolve: async (_source, args, { ctx, ops }, info): Promise<PageValue> => {
      const items = childFields(info.fieldNodes, info).filter((n) => n.name.value === 'items');
      const problems: FieldError[] = [];
      const after = args.after as string | null | undefined;
      if (typeof after === 'string' && after.length > FIXED_LIMITS.cursorLength) {
        problems.push({ path: 'after', code: 'length', message: `"after" is ${after.length} characters long; at most ${FIXED_LIMITS.cursorLength}` });
      }
      const sort = sortArgsOf(args.sort);
      const listArgs: ListArgs = {
        ...recordSelection(build, resource, items, info),
        problems,
        filters: filterArgsOf(resource, args.filter),
        ...(sort && { sort }),
        ...(typeof args.limit === 'number' && { limit: args.limit }),
        ...(typeof after === 'string' && problems.length === 0 && { cursor: after }),
        count: args.count === true,
      };
      const { rows, page } = await ops.list(ctx, resource.name, listArgs);
      return { items: rows, page: { limit: page.limit, hasMore: page.hasMore, nextCursor: page.nextCursor, total: page.total ?? null } };
    },
  };
}

/** null, not an error, when there is no such record or the caller may not read it: GraphQL's idiom, and no existence leak. */
function byIdField(build: BuildContext, resource: Resource, objects: ObjectTypes): Field {
  return {
    type: objects.objectOf(resource),
    description: `One ${resource.singular} by id; null when there is none you may read.`,
    args: { id: { type: new GraphQLNonNull(GraphQLID) } },
    resolve: async (_source, args, { ctx, ops }, info) => {
      try {
        return await ops.get(ctx, resource.name, args.id, recordSelection(build, resource, info.fieldNodes, info));
      } catch (error) {
        if (error instanceof KilnError && error.code === 'KILN_NOT_FOUND') return null;
        throw error;
      }
    },
  };
}
