/**
 * Whether a `default` or an `example` fits its field: the value a create would store, or the value
 * the documentation shows, must be one the API itself accepts. Formats are checked with the same
 * definitions request validation uses (ajv-formats), so the two never disagree.
 */
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { INT32 } from './option-values.js';
import { isPlainObject } from './plain-data.js';

/** A scalar field as checked so far: its type, and only the options whose values are valid. */
export interface FieldView {
  readonly type: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** The compiled pattern, when it is valid and safe to run. */
  readonly regex?: RegExp;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const formats = fullFormats as unknown as Record<string, RegExp | { validate(value: string): boolean } | ((value: string) => boolean)>;

function format(name: string, value: string): boolean {
  const f = formats[name];
  if (f instanceof RegExp) return f.test(value);
  if (typeof f === 'function') return f(value);
  return f ? f.validate(value) : true;
}

/** Why `value` cannot be the field's default (or example), or undefined when it can. */
export function valueProblem(field: FieldView, value: unknown, role: 'default' | 'example'): string | undefined {
  const o = field.options;
  if (value === null) return o.nullable === true ? undefined : 'null is only allowed on a nullable field';
  switch (field.type) {
    case 'string':
    case 'text':
      return stringProblem(field, value);
    case 'integer':
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'expected a number';
      if (field.type === 'integer' && (!Number.isInteger(value) || value < INT32.min || value > INT32.max))
        return `expected an integer from ${INT32.min} to ${INT32.max}`;
      return rangeProblem(value, o.min, o.max);
    }
    case 'bigint': {
      const n =
        typeof value === 'number' && Number.isSafeInteger(value)
          ? BigInt(value)
          : typeof value === 'string' && /^-?\d{1,19}$/.test(value)
            ? BigInt(value)
            : undefined;
      if (n === undefined || n < INT64.min || n > INT64.max) return 'expected a 64-bit integer, as a number or a string of digits';
      return rangeProblem(n, o.min, o.max);
    }
    case 'decimal':
      return decimalProblem(value, o.precision as number | undefined, o.scale as number | undefined);
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    case 'date':
      return typeof value === 'string' && format('date', value) ? undefined : 'expected a date "YYYY-MM-DD"';
    case 'datetime':
      if (role === 'default' && value === 'now') return undefined;
      return typeof value === 'string' && format('date-time', value)
        ? undefined
        : `expected an RFC 3339 date-time with a time zone, e.g. "2026-01-15T09:30:00Z"${role === 'default' ? ', or "now"' : ''}`;
    case 'enum': {
      const values = o.values as readonly string[] | undefined;
      return typeof value === 'string' && values?.includes(value) ? undefined : `expected one of ${values?.join(', ') ?? 'the values'}`;
    }
    case 'uuid':
      if (role === 'default' && value === 'random') return undefined;
      return typeof value === 'string' && format('uuid', value) ? undefined : `expected a UUID${role === 'default' ? ' or "random"' : ''}`;
    case 'json':
      return isJsonValue(value) ? undefined : 'expected JSON data: objects, lists, strings, finite numbers, true, false and null';
    default:
      return 'relations have no default';
  }
}

function stringProblem(field: FieldView, value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string';
  const o = field.options;
  // Lengths count characters (code points), as request validation and PostgreSQL do.
  const length = [...value].length;
  if (typeof o.maxLength === 'number' && length > o.maxLength) return `longer than maxLength ${o.maxLength}`;
  if (typeof o.minLength === 'number' && length < o.minLength) return `shorter than minLength ${o.minLength}`;
  if (field.regex && !field.regex.test(value)) return `does not match the pattern ${o.pattern as string}`;
  if (o.format === 'email' && !format('email', value)) return 'expected an email address';
  if (o.format === 'url' && !format('uri', value)) return 'expected an absolute URL';
  if (o.format === 'uuid' && !format('uuid', value)) return 'expected a UUID';
  return undefined;
}

function rangeProblem(value: number | bigint, min: unknown, max: unknown): string | undefined {
  if (typeof min === 'number' && value < min) return `less than min ${min}`;
  if (typeof max === 'number' && value > max) return `greater than max ${max}`;
  return undefined;
}

function decimalProblem(value: unknown, precision: number | undefined, scale: number | undefined): string | undefined {
  const textValue = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof textValue !== 'string' || !DECIMAL.test(textValue)) return 'expected a decimal number or a string like "12.50"';
  if (precision === undefined) return undefined;
  const [whole = '', fraction = ''] = textValue.replace('-', '').split('.');
  const places = scale ?? 0;
  if (fraction.replace(/0+$/, '').length > places) return `has more than ${places} digits after the point (scale ${places})`;
  if (whole.replace(/^0+/, '').length > precision - places)
    return `has more than ${precision - places} digits before the point (precision ${precision}, scale ${places})`;
  return undefined;
}

/** Plain JSON data: what a jsonb column stores and a JSON body can carry. */
export function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isPlainObject(value)) return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  return false;
}
