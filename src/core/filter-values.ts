/**
 * Checks one filter value against its field and converts it to what the database expects. Values
 * come as text from a query string, or typed (numbers, booleans) from GraphQL or direct callers.
 * Every value's length is checked before any pattern runs, and no pattern here can backtrack: each
 * is linear in its input (test/unit/filter-values.test.ts feeds them long hostile strings).
 */
import type { ColumnField } from '../model/ir.js';
import { filterValueMaxLength } from './limits.js';

const INTEGER = /^-?\d{1,10}$/;
const BIGINT = /^-?\d{1,19}$/;
const ID = /^\d{1,15}$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;
// One way to read each input: digits, then an optional fraction, then an optional exponent.
const FLOAT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):?\d{2})?)?$/;
/** A UUID in its text form, any version, either case. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
/** PostgreSQL refuses UTC offsets beyond ±15:59. */
const MAX_OFFSET_HOURS = 15;

export type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

const ok = (value: unknown): Parsed => ({ ok: true, value });

/** Converts one value (text or typed) to what the database expects for `field`. */
export function parseFilterValue(field: ColumnField, raw: unknown, textMaxLength: number): Parsed {
  if (typeof raw === 'number' || typeof raw === 'boolean') return typedValue(field, raw);
  if (typeof raw !== 'string') return { ok: false, message: `expected ${expected(field)}` };
  const max = filterValueMaxLength(field, textMaxLength);
  if (raw.length > max) return { ok: false, message: `expected ${expected(field)}, got a value of ${raw.length} characters (at most ${max})` };
  const bad = (): Parsed => ({ ok: false, message: `expected ${expected(field)}, got "${truncate(raw)}"` });
  if ((field.role === 'id' || field.role === 'foreignKey') && field.type === 'bigint') return ID.test(raw) ? ok(raw) : bad();
  switch (field.type) {
    case 'integer':
      return INTEGER.test(raw) && Math.abs(Number(raw)) <= 2147483647 ? ok(Number(raw)) : bad();
    case 'bigint':
      return BIGINT.test(raw) && BigInt(raw) >= INT8_MIN && BigInt(raw) <= INT8_MAX ? ok(raw) : bad();
    case 'decimal':
      return DECIMAL.test(raw) ? ok(raw) : bad();
    case 'float':
      return FLOAT.test(raw) && Number.isFinite(Number(raw)) ? ok(Number(raw)) : bad();
    case 'boolean':
      return raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : bad();
    case 'date':
      return isCalendarDate(DATE.exec(raw)) ? ok(raw) : bad();
    case 'datetime': {
      const match = DATETIME.exec(raw);
      const offsetOk = Number(match?.[4] ?? 0) <= MAX_OFFSET_HOURS;
      return isCalendarDate(match) && offsetOk && !Number.isNaN(Date.parse(raw)) ? ok(raw) : bad();
    }
    case 'uuid':
      return UUID.test(raw) ? ok(raw.toLowerCase()) : bad();
    case 'enum':
      return field.values?.includes(raw) ? ok(raw) : bad();
    default:
      if (raw.includes('\u0000')) return { ok: false, message: 'expected text without NUL characters' };
      if (!raw.isWellFormed()) return { ok: false, message: 'expected valid Unicode text (it holds a lone surrogate)' };
      return ok(raw);
  }
}

/** A number or boolean given as such (GraphQL, direct callers). */
function typedValue(field: ColumnField, raw: number | boolean): Parsed {
  const bad = (): Parsed => ({ ok: false, message: `expected ${expected(field)}, got ${String(raw)}` });
  if (typeof raw === 'boolean') return field.type === 'boolean' ? ok(raw) : bad();
  if (!Number.isFinite(raw)) return bad();
  if (field.role === 'id' || field.role === 'foreignKey') return field.type === 'bigint' && Number.isSafeInteger(raw) && raw >= 0 ? ok(String(raw)) : bad();
  switch (field.type) {
    case 'integer':
      return Number.isInteger(raw) && Math.abs(raw) <= 2147483647 ? ok(raw) : bad();
    case 'bigint':
      return Number.isSafeInteger(raw) ? ok(String(raw)) : bad();
    case 'decimal':
      return ok(String(raw));
    case 'float':
      return ok(raw);
    default:
      return bad();
  }
}

/** What a value of `field` must look like, in words. */
export function expected(field: ColumnField): string {
  if (field.role === 'id' || field.role === 'foreignKey') return field.type === 'uuid' ? 'a UUID' : 'a positive integer id';
  switch (field.type) {
    case 'integer':
      return 'an integer';
    case 'bigint':
      return 'a 64-bit integer';
    case 'decimal':
      return 'a decimal number';
    case 'float':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'date':
      return 'a date YYYY-MM-DD';
    case 'datetime':
      return 'an ISO 8601 date-time';
    case 'uuid':
      return 'a UUID';
    case 'enum':
      return `one of: ${field.values?.join(', ')}`;
    default:
      return 'text';
  }
}

/**
 * Year, month and day (groups 1–3) name a real day: Date.parse accepts 2024-02-30 and year 0, which
 * PostgreSQL refuses with an error that would otherwise surface as a 500.
 */
function isCalendarDate(match: RegExpExecArray | null): boolean {
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const daysInMonth = new Date(Date.UTC(2000 + (year % 400), month, 0)).getUTCDate();
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

/** A short excerpt of client input for an error message. */
export function truncate(value: string, max = 40): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
