/**
 * Selection sets → the operations' selection arguments. A root field reads the whole selection under
 * it (fragments, inline fragments, @skip/@include, variables) and turns it into `fields` (the column
 * fields selected) and `include` (the relations selected, each with its own arguments, recursively),
 * so one operation call loads everything: a fixed number of statements whatever the row count.
 *
 * The include engine keeps one list per relation and record, so a relation selected twice under one
 * parent (with aliases) must ask for the same list: identical arguments are merged, different ones refused.
 */
import {
  type FieldNode,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  type SelectionSetNode,
} from 'graphql';
import { KilnError } from '../core/errors.js';
import type { Resource } from '../model/ir.js';
import type { IncludeArg, SelectionArgs } from '../pipeline/parse.js';
import type { BuildContext } from './build-context.js';
import { filterArgsOf } from './filters.js';
import { ETAG_FIELD } from './object-types.js';
import { sortArgsOf } from './sort.js';

type Info = Pick<GraphQLResolveInfo, 'fragments' | 'variableValues' | 'schema'>;

/** The fields selected directly under `nodes`, through fragments, without those @skip/@include leave out. */
export function childFields(nodes: readonly FieldNode[], info: Info): FieldNode[] {
  const out: FieldNode[] = [];
  for (const node of nodes) if (node.selectionSet) walk(node.selectionSet, info, out);
  return out;
}

function walk(set: SelectionSetNode, info: Info, out: FieldNode[]): void {
  for (const selection of set.selections) {
    if (!included(selection, info)) continue;
    if (selection.kind === 'Field') out.push(selection);
    else if (selection.kind === 'InlineFragment') walk(selection.selectionSet, info, out);
    else {
      const fragment = info.fragments[selection.name.value];
      if (fragment) walk(fragment.selectionSet, info, out);
    }
  }
}

function included(node: Parameters<typeof getDirectiveValues>[1], info: Info): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
}

/**
 * What to read of `resource` for the fields selected under `nodes` (nodes whose type is its object
 * type). Selecting `_etag` reads every field the caller may read, as REST's ETag covers them all.
 * `trail`: the relations above, naming arguments in errors (`comments.filter.body.eq`).
 */
export function recordSelection(
  build: BuildContext,
  resource: Resource,
  nodes: readonly FieldNode[],
  info: Info,
  trail: readonly string[] = [],
): SelectionArgs {
  const type = info.schema.getType(build.names.of(resource).type) as GraphQLObjectType;
  const definitions = type.getFields();
  const columns = new Set<string>();
  let everyField = false;
  const relations = new Map<string, { args: Record<string, unknown>; key: string; nodes: FieldNode[] }>();
  for (const child of childFields(nodes, info)) {
    const name = child.name.value;
    if (name === ETAG_FIELD) everyField = true;
    else if (resource.fieldsByName.has(name)) columns.add(name);
    else if (resource.relationsByName.has(name)) {
      const args = getArgumentValues(definitions[name] as GraphQLField<unknown, unknown>, child, info.variableValues);
      const key = JSON.stringify(args);
      const seen = relations.get(name);
      if (!seen) relations.set(name, { args, key, nodes: [child] });
      else if (seen.key === key) seen.nodes.push(child);
      else throw conflictingArguments(resource, [...trail, name]);
    }
  }
  const include: IncludeArg[] = [];
  for (const [name, { args, nodes: relationNodes }] of relations) {
    const relation = resource.relationsByName.get(name);
    if (!relation) continue;
    const target = build.resource(relation.target);
    const path = [...trail, name];
    if (relation.kind === 'belongsTo') {
      include.push({ relation: name, ...recordSelection(build, target, relationNodes, info, path) });
      continue;
    }
    const items = childFields(relationNodes, info).filter((n) => n.name.value === 'items');
    const sort = sortArgsOf(args.sort);
    include.push({
      relation: name,
      ...recordSelection(build, target, items, info, path),
      filters: filterArgsOf(target, args.filter, `${path.join('.')}.filter`),
      ...(sort && { sort }),
      ...(typeof args.limit === 'number' && { limit: args.limit }),
    });
  }
  return everyField ? { include } : { fields: [...columns], include };
}

function conflictingArguments(resource: Resource, path: readonly string[]): KilnError {
  const name = path.join('.');
  const message = `"${name}" is selected more than once under one ${resource.singular} with different arguments; select it once, or give every alias the same arguments`;
  return new KilnError('KILN_QUERY_INVALID', { detail: `${name}: ${message}`, errors: [{ path: name, code: 'conflict', message }] });
}
