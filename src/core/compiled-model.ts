/**
 * Everything the request path needs about a resource, computed once when the server starts and never
 * changed: readable fields, body validators, response serialisers, the default order, and the text
 * of the statements whose shape never varies. One immutable object per resource; the hot path reads
 * it and does no reflection over the model.
 */
import type { ColumnField, Model, Resource } from '../model/ir.js';
import { compileSerializers, type ResourceSerializers } from '../pipeline/serialize.js';
import { ident } from '../sql/fragments.js';
import { type Projection, projection } from '../sql/select.js';
import { compileInputs, type ResourceInput } from './input.js';
import type { Limits } from './limits.js';
import type { Selection, SortKey } from './query.js';

export interface CompiledResource {
  readonly resource: Resource;
  /** Fields a client may read (not hidden), in declaration order. Frozen: its identity keys cached select lists. */
  readonly readable: readonly string[];
  readonly input: ResourceInput;
  readonly serialize: ResourceSerializers;
  /** Fields set on create from the caller's id (`default: auth.id`). */
  readonly fromCaller: readonly ColumnField[];
  /** bigint key fields (id and belongsTo keys): text from the driver, numbers in the API. */
  readonly numericKeys: readonly string[];
  /** The order of a list that asks for none: creation order, then the id, so pages are stable and meaningful. */
  readonly defaultSort: readonly SortKey[];
  /** The selection of a read that asks for none: every readable field, no include. */
  readonly everyField: Selection;
  /** The readable fields with their select list under alias `t`. */
  readonly readableProjection: Projection;
  /** `SELECT <readable> FROM … WHERE t."id" = $1`: a read by id with no selection, include or access rule. */
  readonly findByIdText: string;
  /** Whether the model declares a read or write rule on a field of it: only then is the policy asked about its fields. */
  readonly fieldRules: boolean;
}

export class CompiledModel {
  readonly model: Model;
  /** Whether any resource has field rules (CompiledResource.fieldRules). */
  readonly fieldRules: boolean;
  readonly #byName: ReadonlyMap<string, CompiledResource>;

  /** `limits`: the text maximum and include limit become part of the validators and serialisers. */
  constructor(model: Model, limits: Limits) {
    this.model = model;
    const inputs = compileInputs(model, limits);
    const serializers = compileSerializers(model, limits);
    const byName = new Map<string, CompiledResource>();
    for (const resource of model.resources) {
      const readable = Object.freeze(resource.fields.filter((f) => !f.hidden).map((f) => f.name));
      const readableProjection = Object.freeze(projection(resource, readable));
      byName.set(
        resource.name,
        Object.freeze({
          resource,
          readable,
          input: inputs.get(resource.name) as ResourceInput,
          serialize: serializers.get(resource.name) as ResourceSerializers,
          fromCaller: Object.freeze(resource.fields.filter((f) => f.fromCaller === 'id')),
          numericKeys: Object.freeze(resource.fields.filter((f) => f.type === 'bigint' && (f.role === 'id' || f.role === 'foreignKey')).map((f) => f.name)),
          defaultSort: defaultSort(resource),
          everyField: Object.freeze({ fields: readable, include: Object.freeze([]) }),
          readableProjection,
          findByIdText: `SELECT ${readableProjection.list} FROM ${ident(resource.table)} AS t WHERE t."id" = $1`,
          fieldRules: (model.access?.resources.get(resource.name)?.fields.size ?? 0) > 0,
        }),
      );
    }
    this.#byName = byName;
    this.fieldRules = [...byName.values()].some((r) => r.fieldRules);
  }

  of(resource: Resource | string): CompiledResource {
    const compiled = this.#byName.get(typeof resource === 'string' ? resource : resource.name);
    if (!compiled) throw new Error(`unknown resource ${typeof resource === 'string' ? resource : resource.name}`);
    return compiled;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }
}

/**
 * bigint ids grow in creation order, so the id alone is that order (and uses the primary key index).
 * uuid ids are random: order by createdAt, then the id, when the resource has timestamps.
 */
function defaultSort(resource: Resource): readonly SortKey[] {
  const id = resource.fieldsByName.get('id');
  if (!id) throw new Error(`resource ${resource.name} has no id`);
  const createdAt = resource.fieldsByName.get('createdAt');
  const keys: SortKey[] = resource.idType === 'uuid' && createdAt ? [{ field: createdAt, descending: false }] : [];
  keys.push({ field: id, descending: false });
  return Object.freeze(keys.map((k) => Object.freeze(k)));
}
