import fastJson from 'fast-json-stringify';
import type { Page, Row } from '../core/query.js';
import { type JsonSchema, outputSchema, schemaName } from '../core/schemas.js';
import type { Model, Resource } from '../model/ir.js';

type Stringify<T> = (value: T) => string;

interface ResourceSerializers {
  one: Stringify<{ data: Row }>;
  many: Stringify<{ data: Row[] }>;
  page: Stringify<{ data: Row[]; page: Page }>;
}

export const PAGE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', description: 'Rows asked for.' },
    hasMore: { type: 'boolean', description: 'Whether another page follows.' },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` to get the next page; null on the last page.' },
    total: { type: 'integer', description: 'Rows matching the filters, with `count=true`.' },
  },
  required: ['limit', 'hasMore', 'nextCursor'],
  additionalProperties: false,
};

/**
 * Response serialisers compiled from the model at start-up. They write only properties the schema
 * declares, so a hidden field cannot reach a client even if a query returned it.
 */
export class Serializers {
  readonly #byResource = new Map<string, ResourceSerializers>();

  constructor(model: Model) {
    const ref = (r: Resource) => `${schemaName(r)}#`;
    const externals: Record<string, JsonSchema> = {};
    for (const r of model.resources) externals[schemaName(r)] = { $id: schemaName(r), ...outputSchema(model, r, ref) };
    for (const r of model.resources) {
      const item = { $ref: ref(r) };
      const compile = <T>(properties: JsonSchema): Stringify<T> =>
        fastJson({ type: 'object', properties, additionalProperties: false } as Parameters<typeof fastJson>[0], { schema: externals as never }) as Stringify<T>;
      this.#byResource.set(r.name, {
        one: compile({ data: item }),
        many: compile({ data: { type: 'array', items: item } }),
        page: compile({ data: { type: 'array', items: item }, page: PAGE_SCHEMA }),
      });
    }
  }

  for(resource: Resource): ResourceSerializers {
    return this.#byResource.get(resource.name) as ResourceSerializers;
  }
}
