/**
 * The Subscription root: per resource a field `postEvents(filter: PostFilter, types: [EventType!])`
 * of type `PostEvent! { type, id, record }`. A subscriber gets an event only when it may read the
 * record and the record matches its filter: each event is read again as the subscriber, with the
 * selection under `record` (src/events/delivery.ts), through the same list operation a query runs.
 * `record` is null for `deleted` (the record is gone; its visibility was checked on the row as it
 * was, src/events/snapshot.ts). The subscription is checked once when it starts (filter, selection,
 * the caller's right to read), so a bad filter is an error at once, as for a query.
 */
import {
  type FieldNode,
  GraphQLEnumType,
  type GraphQLFieldConfig,
  GraphQLID,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLResolveInfo,
} from 'graphql';
import type { CompiledModel } from '../core/compiled-model.js';
import { KilnError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { CHANGE_TYPES, type ChangeType, type EventBus } from '../events/bus.js';
import { checkSubscription, type Delivery, type SubscriptionSpec } from '../events/delivery.js';
import { ChangeFeed } from '../events/feed.js';
import type { Resource } from '../model/ir.js';
import type { SelectionArgs } from '../pipeline/parse.js';
import { BuildContext } from './build-context.js';
import type { GraphqlContext } from './endpoint.js';
import { filterArgsOf } from './filters.js';
import { GraphqlNames } from './names.js';
import type { GraphqlTypes } from './schema.js';
import { childFields, recordSelection } from './selection.js';

type Field = GraphQLFieldConfig<Delivery, GraphqlContext>;

/** The value of an event field. */
interface EventValue {
  readonly type: ChangeType;
  readonly id: string | number;
  readonly record: unknown;
}

export const EventType = new GraphQLEnumType({
  name: 'EventType',
  description: "What happened to a record: the same words as the `event:` lines of REST's event streams.",
  values: Object.fromEntries(CHANGE_TYPES.map((type) => [type, { value: type }])),
});

/** The `extend` hook of buildGraphqlSchema that adds the Subscription root. */
export function subscriptionsOf(compiled: CompiledModel, bus: EventBus, limits: Limits): (types: GraphqlTypes) => { subscription: GraphQLObjectType } {
  return (types) => {
    // recordSelection reads names and resources from a BuildContext; the schema's own is not exposed, and names are a pure function of the model.
    const build = new BuildContext(compiled, new GraphqlNames(compiled.model.resources), limits);
    const fields: Record<string, Field> = {};
    for (const resource of compiled.model.resources) {
      const names = types.namesOf(resource.name);
      fields[`${names.type.charAt(0).toLowerCase()}${names.type.slice(1)}Events`] = eventField(build, bus, resource, types);
    }
    return { subscription: new GraphQLObjectType({ name: 'Subscription', fields }) };
  };
}

function eventField(build: BuildContext, bus: EventBus, resource: Resource, types: GraphqlTypes): Field {
  const type = types.namesOf(resource.name).type;
  const event = new GraphQLObjectType<EventValue>({
    name: `${type}Event`,
    description: `A change to a ${resource.singular} the subscriber may read.`,
    fields: {
      type: { type: new GraphQLNonNull(EventType) },
      id: { type: new GraphQLNonNull(GraphQLID), description: `The ${resource.singular}'s id.` },
      record: { type: types.objectOf(resource.name), description: `The ${resource.singular} as the subscriber reads it now; null when deleted.` },
    },
  });
  return {
    type: new GraphQLNonNull(event),
    description: `Changes to ${resource.name} from now on: those the subscriber may read, and that match \`filter\` (after the change).`,
    args: {
      filter: { type: types.filterOf(resource.name) },
      types: { type: new GraphQLList(new GraphQLNonNull(EventType)), description: 'The kinds of change wanted; every kind when absent.' },
    },
    subscribe: async (_source, args, { ctx, ops }, info) => {
      const spec: SubscriptionSpec = {
        ctx,
        resource: resource.name,
        filters: filterArgsOf(resource, args.filter),
        types: changeTypes(args.types),
        selection: selectionOf(build, resource, info),
      };
      // Subscribed before the check, so nothing written meanwhile is missed.
      const feed = new ChangeFeed(bus, ops, spec);
      try {
        await checkSubscription(ops, spec, undefined);
      } catch (error) {
        feed.end();
        throw error;
      }
      return feed;
    },
    resolve: ({ event, record }: Delivery): EventValue => ({ type: event.type, id: event.id, record }),
  };
}

function changeTypes(wanted: unknown): ReadonlySet<ChangeType> {
  if (wanted === undefined || wanted === null) return new Set(CHANGE_TYPES);
  const list = wanted as ChangeType[];
  if (list.length === 0) {
    const message = '"types" is empty: name at least one of created, updated, deleted, or leave it out for all';
    throw new KilnError('KILN_QUERY_INVALID', { detail: message, errors: [{ path: 'types', code: 'value', message }] });
  }
  return new Set(list);
}

/** What to read of a created or updated record: the selection under `record`, or only the id when `record` is not selected. */
function selectionOf(build: BuildContext, resource: Resource, info: GraphQLResolveInfo): SelectionArgs {
  const records: FieldNode[] = childFields(info.fieldNodes, info).filter((node) => node.name.value === 'record');
  return records.length === 0 ? { fields: ['id'] } : recordSelection(build, resource, records, info);
}
