/**
 * What a body value broke, in English: Ajv's own messages ("must be integer", "must NOT have more
 * than 5 characters", "must match pattern …") speak JSON Schema, and the client wrote a model field.
 * Each message says what the value must be, from the field's type and constraints, so the reader can
 * fix it without the schema: "must be an integer from 0 to 10", "must be one of: draft, published".
 */
import type { ErrorObject } from 'ajv';
import type { ColumnField, Resource } from '../model/ir.js';
import { FIXED_LIMITS, filterValueMaxLength } from './limits.js';

const FORMATS: Readonly<Record<string, string>> = {
  email: 'an email address',
  uri: 'an absolute URL such as https://example.com/page',
  url: 'an absolute URL such as https://example.com/page',
  uuid: 'a UUID such as 123e4567-e89b-12d3-a456-426614174000',
  date: 'a date written YYYY-MM-DD, such as 2024-01-31',
  'date-time': 'a date and time in ISO 8601, such as 2024-01-31T09:30:00Z',
};

/** The message for one Ajv error on a column field's value (`value` is what the client sent). */
export function fieldMessage(field: ColumnField, e: ErrorObject, value: unknown, textMaxLength: number): string {
  const what = describeValue(field, textMaxLength);
  if (field.type === 'decimal') return `must be ${what}`;
  switch (e.keyword) {
    case 'type':
    case 'enum':
      if (value === null && !field.nullable) return `must be ${what}, not null`;
      return `must be ${what}${field.nullable ? ' (or null)' : ''}`;
    case 'minLength':
    case 'maxLength':
      if (field.type === 'json') return `a JSON string here may hold at most ${textMaxLength} characters`;
      if (field.type !== 'string' && field.type !== 'text') return `must be ${what}`;
      // Ajv counts code points, as [...value] does: an emoji is one character.
      return `must be a string of ${lengthWords(field, textMaxLength)}${typeof value === 'string' ? ` (this one has ${[...value].length})` : ''}`;
    case 'maxItems':
      return `a JSON array here may hold at most ${FIXED_LIMITS.jsonItems} items`;
    case 'minimum':
    case 'maximum':
      // A bigint sent as a JSON number beyond 2^53 lost digits when parsed: only its string form is exact.
      if (field.type === 'bigint' && Math.abs((e.params as { limit: number }).limit) === Number.MAX_SAFE_INTEGER) {
        return `must be ${what}; beyond ±${Number.MAX_SAFE_INTEGER} send it as a string of digits`;
      }
      return `must be ${what}`;
    case 'pattern':
      return field.type === 'string' || field.type === 'text' ? `must match the pattern ${field.pattern}` : `must be ${what}`;
    default:
      return `must be ${what}`;
  }
}

/** A value of `field` in words, with its bounds: "an integer from 0 to 10", "a string of at most 200 characters". */
export function describeValue(field: ColumnField, textMaxLength: number): string {
  if (field.role === 'id' || field.role === 'foreignKey') return field.type === 'uuid' ? (FORMATS.uuid as string) : 'a positive integer id';
  switch (field.type) {
    case 'string':
    case 'text': {
      if (field.format) return FORMATS[field.format] ?? `a string in the ${field.format} format`;
      return `a string of ${lengthWords(field, textMaxLength)}`;
    }
    case 'integer':
      return `an integer ${range(field.min ?? -2147483648, field.max ?? 2147483647)}`;
    case 'bigint':
      return field.min === undefined && field.max === undefined
        ? 'a 64-bit integer, as a string of up to 19 digits or a JSON integer'
        : `a 64-bit integer ${range(field.min, field.max)}, as a string of digits or a JSON integer`;
    case 'float':
      return field.min === undefined && field.max === undefined ? 'a number' : `a number ${range(field.min, field.max)}`;
    case 'decimal':
      return decimalWords(field);
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of: ${(field.values ?? []).join(', ')}`;
    case 'date':
      return FORMATS.date as string;
    case 'datetime':
      return FORMATS['date-time'] as string;
    case 'uuid':
      return FORMATS.uuid as string;
    case 'json':
      return 'a JSON object, array, string, number or boolean';
  }
}

const TYPE_WORDS: Record<ColumnField['type'], string> = {
  string: 'a string',
  text: 'a text',
  integer: 'an integer',
  bigint: 'a 64-bit integer',
  float: 'a number',
  decimal: 'a decimal',
  boolean: 'a true-or-false',
  enum: 'an enum',
  date: 'a date',
  datetime: 'a date-time',
  uuid: 'a UUID',
  json: 'a JSON',
};

/** What kind of field `field` is, in words: "an integer field", "an id field". */
export function fieldKind(field: ColumnField): string {
  return `${field.role === 'id' || field.role === 'foreignKey' ? 'an id' : TYPE_WORDS[field.type]} field`;
}

/** The message for an Ajv error inside a manyToMany link list (`/tags` or `/tags/3`). */
export function linkMessage(target: Resource, e: ErrorObject): string {
  const id = target.idType === 'uuid' ? 'a UUID' : 'a positive integer id';
  switch (e.keyword) {
    case 'uniqueItems': {
      const { i, j } = e.params as { i: number; j: number };
      return `lists the same ${target.singular} id twice (items ${Math.min(i, j)} and ${Math.max(i, j)})`;
    }
    case 'maxItems':
      return `may list at most ${FIXED_LIMITS.linkIds} ids`;
    default:
      return e.instancePath.split('/').length > 2 ? `must be ${id}` : `must be an array of ${target.singular} ids, each ${id}`;
  }
}

function lengthWords(field: ColumnField, textMaxLength: number): string {
  const max = filterValueMaxLength(field, textMaxLength);
  const min = field.minLength ?? 0;
  return min > 0 ? `${min} to ${max} characters` : `at most ${max} characters`;
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  return min !== undefined ? `of at least ${min}` : `of at most ${max}`;
}

function decimalWords(field: ColumnField): string {
  if (field.precision === undefined) return 'a decimal number, as a string of digits with an optional fraction (e.g. "12.50") or a JSON number';
  const scale = field.scale ?? 0;
  const whole = field.precision - scale;
  return scale > 0
    ? `a decimal with at most ${whole} digits before and ${scale} after the point (e.g. "12.50"); extra digits are not rounded`
    : `a whole number of at most ${whole} digits, as a string or a JSON number`;
}
