/**
 * What every part of the schema builder shares while the schema is made, once at start-up: the
 * model, the names, the limits whose defaults become argument defaults, and the enum types (one per
 * enum field, made once so every place the field appears uses the same type).
 */
import { GraphQLEnumType } from 'graphql';
import type { CompiledModel } from '../core/compiled-model.js';
import type { Limits } from '../core/limits.js';
import type { ColumnField, Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import type { GraphqlNames } from './names.js';
import { type ScalarLike, scalarOf } from './scalars.js';

const ENUM_VALUE = /^[_A-Za-z][_A-Za-z0-9]*$/;
const NOT_ENUM_VALUES = new Set(['true', 'false', 'null']);

export class BuildContext {
  readonly compiled: CompiledModel;
  readonly names: GraphqlNames;
  readonly limits: Limits;
  readonly #enums = new Map<string, GraphQLEnumType | undefined>();

  constructor(compiled: CompiledModel, names: GraphqlNames, limits: Limits) {
    this.compiled = compiled;
    this.names = names;
    this.limits = limits;
  }

  resource(name: string): Resource {
    return this.compiled.of(name).resource;
  }

  /** The leaf type of a field's values (see scalarOf). */
  leafOf(resource: Resource, field: ColumnField): ScalarLike {
    return scalarOf(field, () => this.#enumOf(resource, field));
  }

  /**
   * `PostStatus` for `posts.status`. Values that are not GraphQL names (`in-progress`, `true`) cannot
   * be enum values: such a field is a String, its values checked by the core as in REST.
   */
  #enumOf(resource: Resource, field: ColumnField): GraphQLEnumType | undefined {
    const key = `${resource.name}.${field.name}`;
    if (this.#enums.has(key)) return this.#enums.get(key);
    const values = field.values ?? [];
    const usable = values.length > 0 && values.every((v) => ENUM_VALUE.test(v) && !NOT_ENUM_VALUES.has(v));
    const type = usable
      ? new GraphQLEnumType({
          name: this.names.claim(`${this.names.of(resource).type}${toPascalCase(field.name)}`),
          values: Object.fromEntries(values.map((v) => [v, { value: v }])),
          ...(field.description && { description: field.description }),
        })
      : undefined;
    this.#enums.set(key, type);
    return type;
  }
}
