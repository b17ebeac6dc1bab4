/** Which options each field type accepts, and what each option's value must be. */

import { withArticle } from '../core/words.js';
import type { ScalarType } from './declaration.js';
import { boolean, finiteNumber, INT32, integer, MAX_STRING_LENGTH, oneOf, previousName, sqlName, stringList, text, type ValueCheck } from './option-values.js';
import type { ProblemList } from './problems.js';

export const SCALAR_TYPES: readonly ScalarType[] = [
  'string',
  'text',
  'integer',
  'bigint',
  'decimal',
  'float',
  'boolean',
  'date',
  'datetime',
  'enum',
  'json',
  'uuid',
];

export const RELATION_TYPES = ['belongsTo', 'hasMany', 'manyToMany'] as const;

export const FIELD_TYPES: readonly string[] = [...SCALAR_TYPES, ...RELATION_TYPES];
export const STRING_FORMATS = ['email', 'url', 'uuid'] as const;
export const ON_DELETE = ['restrict', 'cascade', 'setNull'] as const;

/** `default: auth.id`: the field is set on create from the caller's id (src/access/). */
export const CALLER_ID = 'auth.id';
/** The types a `default: auth.id` field may have: an account id is a bigint or a uuid, an external subject text. */
export const CALLER_ID_TYPES: readonly string[] = ['bigint', 'uuid', 'string', 'text'];

/** Options each field type accepts; anything else is reported, so typos do not pass silently. */
const COMMON = ['type', 'required', 'nullable', 'default', 'unique', 'index', 'readOnly', 'hidden', 'description', 'example', 'renamedFrom', 'read', 'write'];
const ALLOWED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  string: [...COMMON, 'minLength', 'maxLength', 'pattern', 'format'],
  text: [...COMMON, 'minLength', 'maxLength', 'pattern', 'format'],
  integer: [...COMMON, 'min', 'max'],
  float: [...COMMON, 'min', 'max'],
  bigint: [...COMMON, 'min', 'max'],
  decimal: [...COMMON, 'precision', 'scale'],
  enum: [...COMMON, 'values'],
  boolean: COMMON,
  date: COMMON,
  datetime: COMMON,
  json: COMMON,
  uuid: COMMON,
  belongsTo: ['type', 'target', 'required', 'nullable', 'onDelete', 'index', 'readOnly', 'description', 'renamedFrom', 'default', 'read', 'write'],
  hasMany: ['type', 'target', 'inverse', 'description'],
  manyToMany: ['type', 'target', 'through', 'description'],
};

export function isFieldType(type: unknown): type is string {
  return typeof type === 'string' && FIELD_TYPES.includes(type);
}

/** Reports options the field's type does not accept, and returns the names of the ones it does. */
export function checkOptionNames(decl: Record<string, unknown> & { type: string }, path: string, problems: ProblemList): string[] {
  const allowed = Object.hasOwn(ALLOWED_OPTIONS, decl.type) ? (ALLOWED_OPTIONS[decl.type] ?? []) : [];
  const known: string[] = [];
  for (const key of Object.keys(decl)) {
    if (allowed.includes(key)) known.push(key);
    else problems.add(`${path}.${key}`, `unknown option "${key}" for ${withArticle(`${decl.type} field`)}`, `use one of: ${allowed.join(', ')}`);
  }
  return known;
}

/**
 * The check of one option's value. `default` and `example` are checked against the whole field
 * (value-fit.ts); `pattern` also for its safety (pattern-safety.ts).
 */
export function optionCheck(type: string, option: string): ValueCheck | undefined {
  switch (option) {
    case 'required':
    case 'nullable':
    case 'unique':
    case 'index':
    case 'readOnly':
    case 'hidden':
      return boolean;
    case 'description':
      return text('Shown in the API documentation.');
    case 'pattern':
      return text('^[a-z0-9-]+$');
    case 'target':
      return text('users');
    case 'inverse':
      return text('author');
    case 'renamedFrom':
      return previousName;
    case 'minLength':
      return integer(0, MAX_STRING_LENGTH, 1);
    case 'maxLength':
      return integer(1, MAX_STRING_LENGTH, 200);
    case 'precision':
      return integer(1, 1000, 12);
    case 'scale':
      return integer(0, 1000, 2);
    case 'format':
      return oneOf(STRING_FORMATS);
    case 'onDelete':
      return oneOf(ON_DELETE);
    case 'through':
      return sqlName('table');
    case 'values':
      return stringList;
    case 'min':
    case 'max':
      return boundCheck(type);
    default:
      return undefined;
  }
}

/** min and max fit the type: 32 bits for integer, exact JavaScript integers for bigint. */
function boundCheck(type: string): ValueCheck {
  if (type === 'integer') return integer(INT32.min, INT32.max, 0);
  if (type === 'bigint') return integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
  return finiteNumber;
}
