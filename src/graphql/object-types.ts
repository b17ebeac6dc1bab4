/**
 * The output side of the schema: an object type per resource with its readable fields, its relations
 * and `_etag`, the `<Type>Page` every list returns, and PageInfo (REST's `page`). Nothing here reads
 * the database: a root field loads the whole selection in one operation call (src/graphql/queries.ts)
 * and these resolvers only read what the include engine attached to each record.
 */
import {
  GraphQLBoolean,
  type GraphQLFieldConfig,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLString,
} from 'graphql';
import { type Row, TRUNCATED } from '../core/query.js';
import type { ColumnField, Resource } from '../model/ir.js';
import { etagOf } from '../pipeline/serialize.js';
import type { BuildContext } from './build-context.js';
import type { GraphqlContext } from './endpoint.js';
import type { FilterTypes } from './filters.js';
import type { SortTypes } from './sort.js';

/** What a Page-typed field resolves to. */
export interface PageValue {
  readonly items: readonly Row[];
  readonly page: { readonly limit: number; readonly hasMore: boolean; readonly nextCursor: string | null; readonly total: number | null };
}

export const ETAG_FIELD = '_etag';

export const PageInfo = new GraphQLObjectType({
  name: 'PageInfo',
  description: "Where a list stands: REST's `page`.",
  fields: {
    limit: { type: new GraphQLNonNull(GraphQLInt), description: 'Records asked for.' },
    hasMore: { type: new GraphQLNonNull(GraphQLBoolean), description: 'Whether more records match than were returned.' },
    nextCursor: {
      type: GraphQLString,
      description:
        'Pass as `after` to get the next page; null on the last page, and always null on a relation field (list the related resource with a filter to page further).',
    },
    total: { type: GraphQLInt, description: 'Records matching the filter, with `count: true` on a root list field; null otherwise.' },
  },
});

export class ObjectTypes {
  readonly #build: BuildContext;
  readonly #filters: FilterTypes;
  readonly #sorts: SortTypes;
  readonly #objects = new Map<string, GraphQLObjectType>();
  readonly #pages = new Map<string, GraphQLObjectType>();

  constructor(build: BuildContext, filters: FilterTypes, sorts: SortTypes) {
    this.#build = build;
    this.#filters = filters;
    this.#sorts = sorts;
  }

  objectOf(resource: Resource): GraphQLObjectType {
    const known = this.#objects.get(resource.name);
    if (known) return known;
    const type = new GraphQLObjectType<Row, GraphqlContext>({
      name: this.#build.names.of(resource).type,
      ...(resource.description && { description: resource.description }),
      fields: () => this.#fieldsOf(resource),
    });
    this.#objects.set(resource.name, type);
    return type;
  }

  pageOf(resource: Resource): GraphQLObjectType {
    const known = this.#pages.get(resource.name);
    if (known) return known;
    const type = new GraphQLObjectType({
      name: `${this.#build.names.of(resource).type}Page`,
      description: `A page of ${resource.name}.`,
      fields: () => ({
        items: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(this.objectOf(resource)))) },
        page: { type: new GraphQLNonNull(PageInfo) },
      }),
    });
    this.#pages.set(resource.name, type);
    return type;
  }

  #fieldsOf(resource: Resource): Record<string, GraphQLFieldConfig<Row, GraphqlContext>> {
    const fields: Record<string, GraphQLFieldConfig<Row, GraphqlContext>> = {};
    const rules = this.#build.compiled.model.access?.resources.get(resource.name)?.fields;
    for (const field of resource.fields) {
      if (field.hidden) continue;
      const leaf = this.#build.leafOf(resource, field);
      // A field with a read rule is null on the rows the caller may not read it on.
      const alwaysThere = field.role === 'id' || (!field.nullable && !rules?.get(field.name)?.read);
      fields[field.name] = { type: alwaysThere ? new GraphQLNonNull(leaf) : leaf, ...describe(field) };
    }
    for (const relation of resource.relations) {
      const target = this.#build.resource(relation.target);
      if (relation.kind === 'belongsTo') {
        fields[relation.name] = {
          type: this.objectOf(target),
          description: relation.description ?? `The ${target.singular} of \`${relation.foreignKey}\`; null when there is none or you may not read it.`,
        };
        continue;
      }
      fields[relation.name] = {
        type: new GraphQLNonNull(this.pageOf(target)),
        description:
          relation.description ??
          `Its ${relation.target}, at most \`limit\` of them; \`page.hasMore\` says when there are more (list ${relation.target} with a filter to page through them).`,
        args: {
          filter: { type: this.#filters.of(target) },
          sort: { type: new GraphQLList(new GraphQLNonNull(this.#sorts.of(target))) },
          limit: { type: GraphQLInt, defaultValue: this.#build.limits.includeLimit, description: `At most ${this.#build.limits.pageMaxLimit}.` },
        },
        resolve: (row, args) => nestedPage(row, relation.name, (args.limit as number | null) ?? this.#build.limits.includeLimit),
      };
    }
    const r = this.#build.compiled.of(resource);
    fields[ETAG_FIELD] = {
      type: new GraphQLNonNull(GraphQLString as GraphQLOutputType),
      description: "The record's ETag as REST gives it to you: pass it as `ifMatch` to update or delete it only if it has not changed since.",
      resolve: (row) => etagOf(r.serialize.one({ data: columnsOf(resource, row) })),
    };
    return fields;
  }
}

function describe(field: ColumnField): { description?: string } {
  return field.description ? { description: field.description } : {};
}

/** A to-many relation the include engine attached, as a page: cut at its limit when `_truncated` names it. */
function nestedPage(row: Row, relation: string, limit: number): PageValue {
  const items = (row[relation] as Row[] | undefined) ?? [];
  const truncated = (row[TRUNCATED] as string[] | undefined)?.includes(relation) ?? false;
  return { items, page: { limit, hasMore: truncated, nextCursor: null, total: null } };
}

/** The record's own fields, without the included relations: what REST's GET of the record serialises. */
function columnsOf(resource: Resource, row: Row): Row {
  const out: Row = {};
  for (const field of resource.fields) if (row[field.name] !== undefined) out[field.name] = row[field.name];
  return out;
}
