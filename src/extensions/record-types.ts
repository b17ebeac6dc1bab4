/**
 * The TypeScript shapes of a resource's records, derived from its field declarations, so a hook's
 * `input` and `row` have the fields' names and value types. A belongsTo `author` is written and read
 * as `authorId`; a manyToMany is written as a list of ids and not read unless included.
 */

type Id = number | string;

type ValueOf<F> = F extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : F extends { type: 'integer' | 'float' }
    ? number
    : F extends { type: 'boolean' }
      ? boolean
      : F extends { type: 'json' }
        ? unknown
        : F extends { type: 'belongsTo' }
          ? Id
          : string; // string, text, date, datetime, uuid; bigint and decimal as their exact text

type OrNull<F, T> = F extends { nullable: true } ? T | null : T;

/** The key a field is written and read under: `<name>Id` for a belongsTo, never for a hasMany. */
type KeyOf<F, K extends string> = F extends { type: 'hasMany' } ? never : F extends { type: 'belongsTo' } ? `${K}Id` : K;

/** A field a create must carry: neither nullable, defaulted, optional nor set by the server. */
type IsRequired<F> = F extends { nullable: true } | { default: unknown } | { required: false } | { readOnly: true } | { type: 'manyToMany' } ? false : true;

type InputValue<F> = F extends { type: 'manyToMany' } ? Id[] : OrNull<F, ValueOf<F>>;

/** What a create of the resource carries once validated: required fields present, the others optional. */
export type InputOf<Fields> = {
  [K in keyof Fields & string as IsRequired<Fields[K]> extends true ? KeyOf<Fields[K], K> : never]: InputValue<Fields[K]>;
} & {
  [K in keyof Fields & string as IsRequired<Fields[K]> extends true ? never : KeyOf<Fields[K], K>]?: InputValue<Fields[K]>;
};

/** A record as read: its id, its stored fields (hidden ones are not returned), and the timestamps when kept. */
export type RecordOf<Fields> = { id: Id; createdAt?: string; updatedAt?: string } & {
  [K in keyof Fields & string as Fields[K] extends { type: 'manyToMany' } | { hidden: true } ? never : KeyOf<Fields[K], K>]: OrNull<
    Fields[K],
    ValueOf<Fields[K]>
  >;
};
