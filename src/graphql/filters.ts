/**
 * Filter inputs: `<Type>Filter` has one entry per filterable field of the resource, each an operator
 * input holding exactly the operators REST allows for the field's type (src/core/filter-operators.ts),
 * and one entry per belongsTo relation holding the target's own fields (REST's `author.email`: one
 * relation deep). Every condition is ANDed. filterArgsOf turns an input into the FilterArg list the
 * validate stage checks, so values, field rules and messages are REST's own.
 */
import { GraphQLBoolean, GraphQLID, type GraphQLInputFieldConfig, GraphQLInputObjectType, type GraphQLInputType, GraphQLList, GraphQLNonNull } from 'graphql';
import { type FilterOperator, operatorsFor } from '../core/filter-operators.js';
import type { ColumnField, Resource } from '../model/ir.js';
import type { FilterArg } from '../pipeline/parse.js';
import type { BuildContext } from './build-context.js';
import type { ScalarLike } from './scalars.js';

/** The columns a filter can name: what REST's filter parameters accept (hidden fields never). */
export function filterableFields(resource: Resource): readonly ColumnField[] {
  return resource.fields.filter((f) => !f.hidden);
}

const OPERATOR_HELP: Record<FilterOperator, string> = {
  eq: 'Equal to.',
  ne: 'Not equal to (null values never match).',
  gt: 'Greater than.',
  gte: 'Greater than or equal to.',
  lt: 'Less than.',
  lte: 'Less than or equal to.',
  in: 'One of these values (1 to 100).',
  notIn: 'None of these values (1 to 100).',
  contains: 'Contains the text (case-sensitive).',
  icontains: 'Contains the text, ignoring case.',
  startsWith: 'Starts with the text (case-sensitive).',
  istartsWith: 'Starts with the text, ignoring case.',
  endsWith: 'Ends with the text (case-sensitive).',
  iendsWith: 'Ends with the text, ignoring case.',
  ieq: 'Equal to, ignoring case.',
  isNull: 'true: the value is null; false: it is not.',
};

export class FilterTypes {
  readonly #build: BuildContext;
  readonly #operatorInputs = new Map<string, GraphQLInputObjectType>();
  readonly #resourceInputs = new Map<string, GraphQLInputObjectType>();

  constructor(build: BuildContext) {
    this.#build = build;
  }

  /** `PostFilter`: the resource's fields and its belongsTo relations. */
  of(resource: Resource): GraphQLInputObjectType {
    return this.#resourceInput(resource, true);
  }

  #resourceInput(resource: Resource, withRelations: boolean): GraphQLInputObjectType {
    const key = `${resource.name}:${withRelations}`;
    const known = this.#resourceInputs.get(key);
    if (known) return known;
    const type = this.#build.names.of(resource).type;
    const input = new GraphQLInputObjectType({
      name: withRelations ? `${type}Filter` : `${type}FieldFilter`,
      description: withRelations
        ? `Conditions on ${resource.name}, all of which must hold. A belongsTo relation takes conditions on the related record's fields.`
        : `Conditions on the fields of ${resource.name} (a filter goes through one belongsTo relation at most).`,
      fields: () => {
        const fields: Record<string, GraphQLInputFieldConfig> = {};
        for (const field of filterableFields(resource)) fields[field.name] = { type: this.#operatorInput(resource, field) };
        if (!withRelations) return fields;
        for (const relation of resource.relations) {
          if (relation.kind !== 'belongsTo') continue;
          fields[relation.name] = { type: this.#resourceInput(this.#build.resource(relation.target), false) };
        }
        return fields;
      },
    });
    this.#resourceInputs.set(key, input);
    return input;
  }

  /** `StringFilter`, `IntFilter`, `PostStatusFilter`…: one per value type and operator set, shared by every field that has them. */
  #operatorInput(resource: Resource, field: ColumnField): GraphQLInputObjectType {
    const leaf = this.#build.leafOf(resource, field);
    const operators = operatorsFor(field);
    const key = `${leaf.name}:${operators.join(',')}`;
    const known = this.#operatorInputs.get(key);
    if (known) return known;
    const input = new GraphQLInputObjectType({
      name: this.#operatorInputName(leaf, operators, resource, field),
      fields: Object.fromEntries(operators.map((op) => [op, { type: operatorType(op, leaf), description: OPERATOR_HELP[op] }])),
    });
    this.#operatorInputs.set(key, input);
    return input;
  }

  #operatorInputName(leaf: ScalarLike, operators: readonly FilterOperator[], resource: Resource, field: ColumnField): string {
    // Keys are ID whichever their type, but bigint keys are ordered and UUID keys are not.
    if (leaf === GraphQLID) return operators.includes('gt') ? 'IDFilter' : 'UUIDKeyFilter';
    const usual = `${leaf.name}Filter`;
    const taken = [...this.#operatorInputs.values()].some((t) => t.name === usual);
    return taken ? this.#build.names.claim(`${this.#build.names.of(resource).type}${field.name.charAt(0).toUpperCase()}${field.name.slice(1)}Filter`) : usual;
  }
}

function operatorType(operator: FilterOperator, leaf: ScalarLike): GraphQLInputType {
  if (operator === 'isNull') return GraphQLBoolean;
  if (operator === 'in' || operator === 'notIn') return new GraphQLList(new GraphQLNonNull(leaf));
  return leaf;
}

type FilterInput = Record<string, Record<string, unknown> | null | undefined>;

/**
 * A `<Type>Filter` value as the validate stage's filters. `prefix` is the argument's path as the
 * caller wrote it (`filter`, `comments.filter`): each filter's `source`, so errors name
 * `filter.title.contains` the way REST errors name `title[contains]`.
 */
export function filterArgsOf(resource: Resource, input: unknown, prefix = 'filter'): FilterArg[] {
  const filters: FilterArg[] = [];
  if (input === null || input === undefined) return filters;
  for (const [name, conditions] of Object.entries(input as FilterInput)) {
    if (conditions === null || conditions === undefined) continue;
    if (resource.relationsByName.has(name)) {
      for (const [fieldName, operators] of Object.entries(conditions as FilterInput)) {
        if (operators) pushConditions(filters, [name, fieldName], operators, `${prefix}.${name}.${fieldName}`);
      }
    } else {
      pushConditions(filters, [name], conditions, `${prefix}.${name}`);
    }
  }
  return filters;
}

function pushConditions(filters: FilterArg[], path: readonly string[], operators: Record<string, unknown>, source: string): void {
  for (const [operator, value] of Object.entries(operators)) {
    if (value === undefined) continue;
    filters.push({ path, operator, value, source: `${source}.${operator}` });
  }
}
