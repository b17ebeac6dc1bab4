import type { CheckedModel } from './checked-model.js';
import type {
  BelongsToDeclaration,
  BigintFieldDeclaration,
  CommonFieldOptions,
  DecimalFieldDeclaration,
  EnumFieldDeclaration,
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

export function defineResource<const R extends ResourceDeclaration>(resource: R): R {
  return resource;
}

type Options<D> = Omit<D, 'type'>;

/** Field builders. Each returns the same plain object the YAML/JSON form would hold. */
export const field = {
  string: (o: Options<StringFieldDeclaration> = {}): StringFieldDeclaration => ({ type: 'string', ...o }),
  text: (o: Options<StringFieldDeclaration> = {}): StringFieldDeclaration => ({ type: 'text', ...o }),
  integer: (o: Options<NumberFieldDeclaration> = {}): NumberFieldDeclaration => ({ type: 'integer', ...o }),
  float: (o: Options<NumberFieldDeclaration> = {}): NumberFieldDeclaration => ({ type: 'float', ...o }),
  bigint: (o: Options<BigintFieldDeclaration> = {}): BigintFieldDeclaration => ({ type: 'bigint', ...o }),
  decimal: (o: Options<DecimalFieldDeclaration> = {}): DecimalFieldDeclaration => ({ type: 'decimal', ...o }),
  boolean: (o: CommonFieldOptions<boolean> = {}): PlainFieldDeclaration => ({ type: 'boolean', ...o }),
  date: (o: CommonFieldOptions<string> = {}): PlainFieldDeclaration => ({ type: 'date', ...o }),
  datetime: (o: CommonFieldOptions<string> = {}): PlainFieldDeclaration => ({ type: 'datetime', ...o }),
  json: (o: CommonFieldOptions = {}): PlainFieldDeclaration => ({ type: 'json', ...o }),
  uuid: (o: CommonFieldOptions<string> = {}): PlainFieldDeclaration => ({ type: 'uuid', ...o }),
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
