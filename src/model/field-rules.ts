import type { FieldDeclaration, ScalarType } from './declaration.js';
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

/** Options each field type accepts; anything else is reported, so typos do not pass silently. */
const COMMON = ['type', 'required', 'nullable', 'default', 'unique', 'index', 'readOnly', 'hidden', 'description', 'example', 'renamedFrom'];
const ALLOWED_OPTIONS: Record<string, readonly string[]> = {
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
  belongsTo: ['type', 'target', 'required', 'nullable', 'onDelete', 'index', 'readOnly', 'description', 'renamedFrom'],
  hasMany: ['type', 'target', 'inverse', 'description'],
  manyToMany: ['type', 'target', 'through', 'description'],
};

export function checkOptionNames(decl: FieldDeclaration, path: string, problems: ProblemList): void {
  const allowed = ALLOWED_OPTIONS[decl.type];
  if (!allowed) return;
  for (const key of Object.keys(decl)) {
    if (!allowed.includes(key)) {
      problems.add(`${path}.${key}`, `unknown option "${key}" for a ${decl.type} field`, `use one of: ${allowed.join(', ')}`);
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Returns why `value` cannot be a value of the field, or undefined when it can. */
export function valueProblem(decl: FieldDeclaration, value: unknown): string | undefined {
  if (value === null) return 'nullable' in decl && decl.nullable ? undefined : 'null is only allowed on a nullable field';
  switch (decl.type) {
    case 'string':
    case 'text': {
      if (typeof value !== 'string') return 'expected a string';
      if (decl.maxLength !== undefined && value.length > decl.maxLength) return `longer than maxLength ${decl.maxLength}`;
      if (decl.minLength !== undefined && value.length < decl.minLength) return `shorter than minLength ${decl.minLength}`;
      return undefined;
    }
    case 'integer':
      return Number.isInteger(value) ? undefined : 'expected an integer';
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'expected a number';
    case 'bigint':
      return Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value)) ? undefined : 'expected an integer or a string of digits';
    case 'decimal':
      return typeof value === 'number' || (typeof value === 'string' && DECIMAL.test(value)) ? undefined : 'expected a decimal number or string';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    case 'date':
      return typeof value === 'string' && DATE.test(value) ? undefined : 'expected a date "YYYY-MM-DD"';
    case 'datetime':
      return typeof value === 'string' && (value === 'now' || !Number.isNaN(Date.parse(value))) ? undefined : 'expected an ISO 8601 date-time or "now"';
    case 'enum':
      return typeof value === 'string' && decl.values.includes(value) ? undefined : `expected one of ${decl.values.join(', ')}`;
    case 'uuid':
      return typeof value === 'string' && (UUID.test(value) || value === 'random') ? undefined : 'expected a UUID or "random"';
    case 'json':
      return undefined;
    default:
      return 'relations have no default';
  }
}
