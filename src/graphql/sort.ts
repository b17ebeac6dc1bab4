/**
 * `<Type>Sort`: an enum value per field REST can sort by and direction (`title_ASC`, `title_DESC`).
 * Each value stands for REST's sort item (`title`, `-title`), so the validate stage checks the order
 * (field rules, repeats, the number of keys) as it does for REST.
 */
import { GraphQLEnumType, type GraphQLEnumValueConfig } from 'graphql';
import type { Resource } from '../model/ir.js';
import type { BuildContext } from './build-context.js';

export class SortTypes {
  readonly #build: BuildContext;
  readonly #enums = new Map<string, GraphQLEnumType>();

  constructor(build: BuildContext) {
    this.#build = build;
  }

  of(resource: Resource): GraphQLEnumType {
    const known = this.#enums.get(resource.name);
    if (known) return known;
    const values: Record<string, GraphQLEnumValueConfig> = {};
    for (const field of resource.fields) {
      if (field.hidden || field.type === 'json') continue;
      values[`${field.name}_ASC`] = { value: field.name, description: `By ${field.name}, ascending.` };
      values[`${field.name}_DESC`] = { value: `-${field.name}`, description: `By ${field.name}, descending.` };
    }
    const type = new GraphQLEnumType({
      name: `${this.#build.names.of(resource).type}Sort`,
      description: 'An order key. Give several for ties; the id always ends the order, so pages never skip or repeat a record.',
      values,
    });
    this.#enums.set(resource.name, type);
    return type;
  }
}

/** The sort argument as REST's sort items; undefined (the default order) when absent or null. */
export function sortArgsOf(sort: unknown): string[] | undefined {
  return Array.isArray(sort) ? (sort as string[]) : undefined;
}
