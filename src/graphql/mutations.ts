/**
 * The root mutation fields of each resource, each calling the operation REST's route calls:
 * `createPost` (POST), `createPosts` (POST /bulk, all or nothing), `updatePost` (PATCH, `ifMatch` as
 * If-Match) and `deletePost` (DELETE). graphql-js runs root mutation fields one after the other;
 * each is its own operation call, so its own transaction.
 *
 * A result shows the selected fields of the written record as the write returned it; relations
 * selected on it are read back through the same get REST's GET runs, in the same request.
 */
import {
  type GraphQLFieldConfig,
  GraphQLID,
  type GraphQLInputFieldConfig,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLResolveInfo,
  GraphQLString,
} from 'graphql';
import { KilnError } from '../core/errors.js';
import type { Operations } from '../core/operations.js';
import { type Row, TRUNCATED } from '../core/query.js';
import type { Resource } from '../model/ir.js';
import type { RequestContext } from '../pipeline/context.js';
import type { BuildContext } from './build-context.js';
import type { GraphqlContext } from './endpoint.js';
import type { ObjectTypes } from './object-types.js';
import { recordSelection } from './selection.js';

type Field = GraphQLFieldConfig<unknown, GraphqlContext>;
type Variant = 'Create' | 'Update';

export function mutationFields(build: BuildContext, objects: ObjectTypes): Record<string, Field> {
  const fields: Record<string, Field> = {};
  for (const resource of build.compiled.model.resources) {
    const names = build.names.of(resource);
    const object = objects.objectOf(resource);
    const createInput = inputType(build, resource, 'Create');
    const updateInput = inputType(build, resource, 'Update');
    const name = resource.name;
    const ifMatch = {
      type: GraphQLString,
      description: "The record's `_etag`: the write is made only if the record has not changed since (KILN_PRECONDITION_FAILED otherwise).",
    };
    fields[names.create] = {
      type: object,
      description: `Creates one ${resource.singular}.`,
      args: { input: { type: new GraphQLNonNull(createInput) } },
      resolve: async (_source, args, { ctx, ops }, info) => {
        const row = await ops.create(ctx, name, bodyOf(build, resource, args.input));
        return (await withRelations(build, resource, ops, ctx, [row], info))[0];
      },
    };
    fields[names.createMany] = {
      type: new GraphQLList(new GraphQLNonNull(object)),
      description: `Creates ${resource.name} in bulk: every one, or none (1 to ${build.limits.bulkMaxItems}).`,
      args: { inputs: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(createInput))) } },
      resolve: async (_source, args, { ctx, ops }, info) => {
        const bodies = (args.inputs as unknown[]).map((input) => bodyOf(build, resource, input));
        return withRelations(build, resource, ops, ctx, await ops.createMany(ctx, name, bodies), info);
      },
    };
    fields[names.update] = {
      type: object,
      description: `Changes the fields given of one ${resource.singular}; the others keep their values.`,
      args: { id: { type: new GraphQLNonNull(GraphQLID) }, input: { type: new GraphQLNonNull(updateInput) }, ifMatch },
      resolve: async (_source, args, { ctx, ops }, info) => {
        const options = typeof args.ifMatch === 'string' ? { ifMatch: args.ifMatch } : {};
        const row = await ops.update(ctx, name, args.id, bodyOf(build, resource, args.input), options);
        return (await withRelations(build, resource, ops, ctx, [row], info))[0];
      },
    };
    fields[names.delete] = {
      type: GraphQLID,
      description: `Deletes one ${resource.singular}; answers its id.`,
      args: { id: { type: new GraphQLNonNull(GraphQLID) }, ifMatch },
      resolve: async (_source, args, { ctx, ops }) => {
        await ops.remove(ctx, name, args.id, typeof args.ifMatch === 'string' ? { ifMatch: args.ifMatch } : {});
        return args.id;
      },
    };
  }
  return fields;
}

/**
 * `PostCreateInput`, `PostUpdateInput`: what REST's body schemas allow (every field a client may
 * write, manyToMany relations as id lists). A create's required fields are non-null; the values
 * themselves are checked by the same validators as REST's bodies.
 */
function inputType(build: BuildContext, resource: Resource, variant: Variant): GraphQLInputObjectType {
  const type = build.names.of(resource).type;
  return new GraphQLInputObjectType({
    name: `${type}${variant}Input`,
    description: variant === 'Create' ? `A new ${resource.singular}.` : `The fields of a ${resource.singular} to change (one at least).`,
    fields: () => {
      const fields: Record<string, GraphQLInputFieldConfig> = {};
      for (const field of resource.fields) {
        if (field.readOnly) continue;
        const leaf: GraphQLInputType = build.leafOf(resource, field);
        fields[field.name] = {
          type: variant === 'Create' && field.required ? new GraphQLNonNull(leaf) : leaf,
          ...(field.description && { description: field.description }),
        };
      }
      for (const relation of resource.relations) {
        if (relation.kind !== 'manyToMany') continue;
        fields[relation.name] = {
          type: new GraphQLList(new GraphQLNonNull(GraphQLID)),
          description: `Ids of the ${relation.target} to link; replaces the current links.`,
        };
      }
      return fields;
    },
  });
}

const DIGITS = /^\d{1,16}$/;

/**
 * An input as REST's JSON body. GraphQL's ID is text, and REST writes integer ids as JSON integers:
 * the ids of integer-keyed resources are turned back into numbers (anything else is left as given,
 * for the validator to refuse with REST's message).
 */
function bodyOf(build: BuildContext, resource: Resource, input: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [name, value] of Object.entries(body)) {
    const field = resource.fieldsByName.get(name);
    if (field) {
      if ((field.role === 'id' || field.role === 'foreignKey') && field.type === 'bigint') body[name] = integerId(value);
      continue;
    }
    const relation = resource.relationsByName.get(name);
    if (relation?.kind === 'manyToMany' && build.resource(relation.target).idType === 'bigint' && Array.isArray(value)) body[name] = value.map(integerId);
  }
  return body;
}

function integerId(value: unknown): unknown {
  return typeof value === 'string' && DIGITS.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
}

/**
 * The written records with the relations selected on them, read back under the caller's rules. Only
 * relations are read back (the fields are the write's own answer), so a result never shows a field
 * the write did not return.
 */
async function withRelations(
  build: BuildContext,
  resource: Resource,
  ops: Operations,
  ctx: RequestContext,
  rows: Row[],
  info: GraphQLResolveInfo,
): Promise<Row[]> {
  const include = recordSelection(build, resource, info.fieldNodes, info).include ?? [];
  if (include.length === 0 || rows.length === 0) return rows;
  const out: Row[] = [];
  for (const row of rows) {
    try {
      const read = await ops.get(ctx, resource.name, row.id, { fields: [], include });
      const merged: Row = { ...row };
      for (const arg of include) merged[arg.relation] = read[arg.relation];
      if (read[TRUNCATED]) merged[TRUNCATED] = read[TRUNCATED];
      out.push(merged);
    } catch (error) {
      // Written but not readable by the caller (a rule on reads): the record without its relations.
      if (!(error instanceof KilnError && error.code === 'KILN_NOT_FOUND')) throw error;
      out.push(row);
    }
  }
  return out;
}
