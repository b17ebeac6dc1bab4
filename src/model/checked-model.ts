/**
 * Compile-time checks of a model written with defineModel: a relation whose target is not a resource,
 * or a `unique`/`indexes` entry naming something other than a stored field, is a type error at the
 * entry, with the names that would fit. The loader checks the same at run time (compile.ts), for the
 * YAML/JSON form and for models built dynamically.
 */
import type { ModelDeclaration, ResourceDeclaration } from './declaration.js';

type Relation = { type: 'belongsTo' | 'hasMany' | 'manyToMany'; target: string };

/** The names `unique` and `indexes` accept: id, the timestamps, plain fields, and `<relation>Id` of each belongsTo. */
export type StoredFieldName<R extends ResourceDeclaration> =
  | 'id'
  | (R['timestamps'] extends false ? never : 'createdAt' | 'updatedAt')
  | {
      [F in keyof R['fields'] & string]: R['fields'][F] extends { type: 'belongsTo' }
        ? `${F}Id`
        : R['fields'][F] extends { type: 'hasMany' | 'manyToMany' }
          ? never
          : F;
    }[keyof R['fields'] & string];

// Only the constrained properties: defineModel takes `M & CheckedModel<M>`, so everything else is M's
// own, and a mismatch is reported at the property itself (`target`, a name in `unique`).
type CheckedFields<Fields, Resources extends string> = {
  [F in keyof Fields]: Fields[F] extends Relation ? { target: Resources } : unknown;
};

type CheckedResource<R extends ResourceDeclaration, Resources extends string> = {
  fields: CheckedFields<R['fields'], Resources>;
  unique?: readonly (readonly StoredFieldName<R>[])[];
  indexes?: readonly { fields: readonly StoredFieldName<R>[]; unique?: boolean; name?: string }[];
};

export type CheckedModel<M extends ModelDeclaration> = {
  resources: { [K in keyof M['resources']]: CheckedResource<M['resources'][K], keyof M['resources'] & string> };
};
