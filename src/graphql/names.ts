/**
 * How the GraphQL schema names a model's things. A resource's object type is its record in one word
 * (`posts` → `Post`, from the model's `singular`), the list field is the resource's own name and the
 * by-id field the singular (`posts`, `post`). When the singular is not a usable GraphQL name, or is
 * the resource's name itself (`news`), the type keeps the OpenAPI schema name (`News`) and the by-id
 * field becomes `<name>ById`, so REST and GraphQL still name the resource alike.
 */
import type { Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import { SchemaNames } from '../openapi/schema-names.js';

/** Names the schema itself defines: a resource type must not take one. */
const RESERVED = new Set([
  'Query',
  'Mutation',
  'Subscription',
  // The subscriptions' enum (src/graphql/subscriptions.ts).
  'EventType',
  'PageInfo',
  'ID',
  'Int',
  'Float',
  'String',
  'Boolean',
  'BigInt',
  'Decimal',
  'Date',
  'DateTime',
  'UUID',
  'JSON',
  // The operator inputs of src/graphql/filters.ts.
  'StringFilter',
  'IntFilter',
  'FloatFilter',
  'BooleanFilter',
  'BigIntFilter',
  'DecimalFilter',
  'DateFilter',
  'DateTimeFilter',
  'UUIDFilter',
  'JSONFilter',
  'IDFilter',
  'UUIDKeyFilter',
]);

/** Suffixes of the types made for each resource; a stem is free only when every one of them is. */
const SUFFIXES = ['', 'Page', 'Filter', 'FieldFilter', 'Sort', 'CreateInput', 'UpdateInput', 'Event'] as const;

const GRAPHQL_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export interface ResourceNames {
  /** The object type: `Post`. */
  readonly type: string;
  /** The list field: `posts`. */
  readonly list: string;
  /** The by-id field: `post`, or `postsById`. */
  readonly byId: string;
  /** The mutations: `createPost`, `createPosts` (bulk), `updatePost`, `deletePost`. */
  readonly create: string;
  readonly createMany: string;
  readonly update: string;
  readonly delete: string;
}

export class GraphqlNames {
  readonly #byResource = new Map<string, ResourceNames>();
  readonly #taken = new Set<string>(RESERVED);

  constructor(resources: readonly Resource[]) {
    const openapi = new SchemaNames(resources);
    const resourceNames = new Set(resources.map((r) => r.name));
    for (const r of resources) {
      const singular = toPascalCase(r.singular.replace(/[^A-Za-z0-9]+/g, ' '));
      const usable = GRAPHQL_NAME.test(singular) && singular !== toPascalCase(r.name);
      let stem = usable && this.#free(singular) ? singular : openapi.of(r);
      for (let n = 2; !this.#free(stem); n++) stem = `${openapi.of(r)}${n}`;
      for (const suffix of SUFFIXES) this.#taken.add(`${stem}${suffix}`);
      const camel = `${stem.charAt(0).toLowerCase()}${stem.slice(1)}`;
      const byId = stem === singular && !resourceNames.has(camel) ? camel : `${r.name}ById`;
      const plural = toPascalCase(r.name);
      this.#byResource.set(r.name, {
        type: stem,
        list: r.name,
        byId,
        create: `create${stem}`,
        createMany: plural === stem ? `create${stem}Many` : `create${plural}`,
        update: `update${stem}`,
        delete: `delete${stem}`,
      });
    }
  }

  of(resource: Resource | string): ResourceNames {
    const names = this.#byResource.get(typeof resource === 'string' ? resource : resource.name);
    if (!names) throw new Error(`unknown resource ${typeof resource === 'string' ? resource : resource.name}`);
    return names;
  }

  /** A name for a type of the schema's own (an enum of a field); numbered when taken. */
  claim(wanted: string): string {
    let name = wanted;
    for (let n = 2; this.#taken.has(name); n++) name = `${wanted}${n}`;
    this.#taken.add(name);
    return name;
  }

  #free(stem: string): boolean {
    return SUFFIXES.every((suffix) => !this.#taken.has(`${stem}${suffix}`));
  }
}
