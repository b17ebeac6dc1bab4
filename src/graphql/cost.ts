/**
 * What an operation costs at worst, before it runs. The unit is one field of one record in the
 * answer: every field costs 1, and the elements of a list cost their selection once per element the
 * list may hold. How many that is comes from the field's `limit` argument (its value in the document,
 * its variable, or the schema's default: Kiln's page size and include limit) or, for a bulk mutation,
 * the length of its `inputs`. Kiln's list fields return a page object (`posts(limit) { items { … }
 * page { … } }`): the count of the field then applies to the lists directly under it (`items`), not to
 * the page's own fields. A list field that has no count of its own and is under none counts one element.
 *
 * The same field selected twice counts twice, and both branches of a type condition count: the bound
 * holds whatever the data.
 */
import {
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { fragmentsOf, INTROSPECTION_ROOTS } from './operation-shape.js';

/** The argument of a list field that says how many elements it returns. */
export const LIMIT_ARGUMENT = 'limit';
/** The argument of a bulk mutation that carries the records, one element of the answer each. */
export const INPUTS_ARGUMENT = 'inputs';

export type Variables = Readonly<Record<string, unknown>> | null | undefined;

/**
 * The cost of a selection set as a function of how many elements its parent holds:
 * `fixed + count × perElement`, where `perElement` is what the lists directly in it cost per element.
 * A fragment's cost has this form whatever the count, so each fragment is measured once.
 */
interface SetCost {
  readonly fixed: number;
  readonly perElement: number;
}

const NOTHING: SetCost = { fixed: 0, perElement: 0 };

/** A literal that is neither a number, a list nor null: a count cannot come from it. */
const OTHER_VALUE = Symbol('other value');

/** The cost of one operation of a document, given the request's variables. */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Variables): number {
  return new CostWalk(schema, fragmentsOf(document), operation, variables ?? {}).total();
}

class CostWalk {
  readonly #schema: GraphQLSchema;
  readonly #fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly #operation: OperationDefinitionNode;
  readonly #variables: Readonly<Record<string, unknown>>;
  readonly #done = new Map<string, SetCost>();
  readonly #open = new Set<string>();

  constructor(
    schema: GraphQLSchema,
    fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
  ) {
    this.#schema = schema;
    this.#fragments = fragments;
    this.#operation = operation;
    this.#variables = variables;
  }

  total(): number {
    const root = this.#schema.getRootType(this.#operation.operation) ?? undefined;
    const cost = this.#setCost(this.#operation.selectionSet, root);
    return cost.fixed + cost.perElement;
  }

  #setCost(set: SelectionSetNode, parent: GraphQLNamedType | undefined): SetCost {
    let fixed = 0;
    let perElement = 0;
    for (const selection of set.selections) {
      let part: SetCost;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (INTROSPECTION_ROOTS.has(name)) {
          fixed += 1;
          continue;
        }
        const field = fieldOf(parent, name);
        const below = selection.selectionSet ? this.#setCost(selection.selectionSet, field && getNamedType(field.type)) : NOTHING;
        const count = field && this.#countOf(field, selection.arguments ?? []);
        if (field && isListType(getNullableType(field.type))) {
          // The elements of a list: each costs its selection, and at least 1 (a list of scalars).
          const element = Math.max(1, below.fixed + below.perElement);
          if (count === undefined) part = { fixed: 1, perElement: element };
          else part = { fixed: 1 + count * element, perElement: 0 };
        } else {
          part = { fixed: 1 + below.fixed + (count ?? 1) * below.perElement, perElement: 0 };
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition && this.#schema.getType(selection.typeCondition.name.value);
        part = this.#setCost(selection.selectionSet, condition ?? parent);
      } else {
        part = this.#fragmentCost(selection.name.value);
      }
      fixed += part.fixed;
      perElement += part.perElement;
    }
    return { fixed, perElement };
  }

  #fragmentCost(name: string): SetCost {
    const known = this.#done.get(name);
    if (known) return known;
    const definition = this.#fragments.get(name);
    // A cycle: graphql-js's NoFragmentCyclesRule refuses the document; this walk only has to end.
    if (!definition || this.#open.has(name)) return NOTHING;
    this.#open.add(name);
    const cost = this.#setCost(definition.selectionSet, this.#schema.getType(definition.typeCondition.name.value));
    this.#open.delete(name);
    this.#done.set(name, cost);
    return cost;
  }

  /** How many elements the field returns: its `limit`, or the length of its `inputs`; undefined when it has neither. */
  #countOf(field: GraphQLField<unknown, unknown>, args: readonly ArgumentNode[]): number | undefined {
    const limit = field.args.find((a) => a.name === LIMIT_ARGUMENT);
    if (limit) {
      const given = this.#valueOf(args.find((a) => a.name.value === LIMIT_ARGUMENT)?.value);
      const value = given ?? limit.defaultValue;
      // Not a number: execution refuses it (graphql-js coerces Int), so the cost need not guess.
      return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.floor(value)) : 1;
    }
    if (field.args.some((a) => a.name === INPUTS_ARGUMENT)) {
      const given = this.#valueOf(args.find((a) => a.name.value === INPUTS_ARGUMENT)?.value);
      if (given === undefined || given === null) return 0;
      // GraphQL's input coercion turns a single value into a list of one.
      return Array.isArray(given) ? given.length : 1;
    }
    return undefined;
  }

  /** An argument's value as execution will see it: a literal, a variable sent, or the variable's default; undefined when absent. */
  #valueOf(node: ValueNode | undefined): unknown {
    if (!node) return undefined;
    switch (node.kind) {
      case Kind.VARIABLE: {
        const name = node.name.value;
        if (Object.hasOwn(this.#variables, name)) return this.#variables[name];
        const definition = this.#operation.variableDefinitions?.find((d) => d.variable.name.value === name);
        return this.#valueOf(definition?.defaultValue);
      }
      case Kind.INT:
        return Number(node.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return node.values;
      default:
        return OTHER_VALUE;
    }
  }
}

function fieldOf(parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
}
