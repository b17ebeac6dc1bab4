import type { InputOf, RecordOf } from '../extensions/record-types.js';
import type { ResourceHooks } from '../extensions/types.js';
import type { CheckedModel } from './checked-model.js';
import type {
  BelongsToDeclaration,
  BigintFieldDeclaration,
  CommonFieldOptions,
  DecimalFieldDeclaration,
  EnumFieldDeclaration,
  FieldDeclaration,
  HasManyDeclaration,
  ManyToManyDeclaration,
  ModelDeclaration,
  NumberFieldDeclaration,
  PlainFieldDeclaration,
  ResourceDeclaration,
  StringFieldDeclaration,
} from './declaration.js';

/**
 * Typed identity helpers: they give editor completion and return plain data the loader validates.
 * defineModel also checks, at compile time, that every relation targets a resource of the model and
 * that `unique` and `indexes` name stored fields of their resource (see checked-model.ts).
 */
export function defineModel<const M extends ModelDeclaration>(model: M & CheckedModel<M>): M {
  return model;
}

/** The hooks of a resource are typed from its fields: `input` and `row` carry their names and value types. */
export function defineResource<const F extends Record<string, FieldDeclaration>, const R extends ResourceDeclaration>(
  resource: R & { fields: F; hooks?: ResourceHooks<InputOf<F>, RecordOf<F>> },
): R {
  return resource;
}

type Options<D> = Omit<D, 'type'>;

/**
 * A builder's result keeps its `type` and the options written (`nullable: true`, `default`…) as
 * literal types: the hooks of a resource are typed from them (src/extensions/record-types.ts).
 */
function builder<D, T extends string>(type: T) {
  return <const O extends Options<D>>(o?: O): D & { type: T } & O => ({ type, ...o }) as D & { type: T } & O;
}

/** Field builders. Each returns the same plain object the YAML/JSON form would hold. */
export const field = {
  string: builder<StringFieldDeclaration, 'string'>('string'),
  text: builder<StringFieldDeclaration, 'text'>('text'),
  integer: builder<NumberFieldDeclaration, 'integer'>('integer'),
  float: builder<NumberFieldDeclaration, 'float'>('float'),
  bigint: builder<BigintFieldDeclaration, 'bigint'>('bigint'),
  decimal: builder<DecimalFieldDeclaration, 'decimal'>('decimal'),
  boolean: builder<PlainFieldDeclaration & CommonFieldOptions<boolean>, 'boolean'>('boolean'),
  date: builder<PlainFieldDeclaration & CommonFieldOptions<string>, 'date'>('date'),
  datetime: builder<PlainFieldDeclaration & CommonFieldOptions<string>, 'datetime'>('datetime'),
  json: builder<PlainFieldDeclaration, 'json'>('json'),
  uuid: builder<PlainFieldDeclaration & CommonFieldOptions<string>, 'uuid'>('uuid'),
  enum: <const V extends string>(values: readonly V[], o: Options<Omit<EnumFieldDeclaration<V>, 'values'>> = {}): EnumFieldDeclaration<V> => ({
    type: 'enum',
    values,
    ...o,
  }),
  // The target keeps its literal type, so defineModel can check it names a resource of the model.
  belongsTo: <const T extends string>(target: T, o: Options<Omit<BelongsToDeclaration, 'target'>> = {}): BelongsToDeclaration<T> => ({
    type: 'belongsTo',
    target,
    ...o,
  }),
  hasMany: <const T extends string>(target: T, o: Options<Omit<HasManyDeclaration, 'target'>> = {}): HasManyDeclaration<T> => ({
    type: 'hasMany',
    target,
    ...o,
  }),
  manyToMany: <const T extends string>(target: T, o: Options<Omit<ManyToManyDeclaration, 'target'>> = {}): ManyToManyDeclaration<T> => ({
    type: 'manyToMany',
    target,
    ...o,
  }),
};
