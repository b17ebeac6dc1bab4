import type { FilterOperator } from '../core/query.js';
import { ORDER_OPERATORS, TEXT_OPERATORS } from '../core/query.js';
import type { ColumnField } from '../model/ir.js';

const INTEGER = /^-?\d{1,10}$/;
const BIGINT = /^-?\d{1,19}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):?\d{2})?)?$/;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
/** PostgreSQL refuses UTC offsets beyond ±15:59. */
const MAX_OFFSET_HOURS = 15;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_IN_VALUES = 100;

/** Which operators make sense for a field's type. */
export function operatorsFor(field: ColumnField): readonly FilterOperator[] {
  const base: FilterOperator[] = ['eq', 'ne', 'in', 'notIn', 'isNull'];
  switch (field.type) {
    case 'string':
    case 'text':
      return [...base, ...ORDER_OPERATORS, ...TEXT_OPERATORS];
    case 'integer':
    case 'bigint':
    case 'decimal':
    case 'float':
    case 'date':
    case 'datetime':
      return [...base, ...ORDER_OPERATORS];
    case 'boolean':
      return ['eq', 'ne', 'isNull'];
    case 'json':
      return ['isNull'];
    default:
      return base;
  }
}

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** Converts one query-string value to what the database expects for `field`. */
export function parseValue(field: ColumnField, raw: string): Parsed {
  const ok = (value: unknown): Parsed => ({ ok: true, value });
  const bad = (expected: string): Parsed => ({ ok: false, message: `expected ${expected}, got "${truncate(raw)}"` });
  if ((field.role === 'id' || field.role === 'foreignKey') && field.type === 'bigint') {
    return /^\d{1,15}$/.test(raw) ? ok(raw) : bad('a positive integer id');
  }
  switch (field.type) {
    case 'integer':
      return INTEGER.test(raw) && Math.abs(Number(raw)) <= 2147483647 ? ok(Number(raw)) : bad('an integer');
    case 'bigint':
      return BIGINT.test(raw) && BigInt(raw) >= INT8_MIN && BigInt(raw) <= INT8_MAX ? ok(raw) : bad('a 64-bit integer');
    case 'decimal':
      return DECIMAL.test(raw) ? ok(raw) : bad('a decimal number');
    case 'float':
      return FLOAT.test(raw) && Number.isFinite(Number(raw)) ? ok(Number(raw)) : bad('a number');
    case 'boolean':
      return raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : bad('true or false');
    case 'date':
      return isCalendarDate(DATE.exec(raw)) ? ok(raw) : bad('a date YYYY-MM-DD');
    case 'datetime': {
      const match = DATETIME.exec(raw);
      const offsetOk = Number(match?.[4] ?? 0) <= MAX_OFFSET_HOURS;
      return isCalendarDate(match) && offsetOk && !Number.isNaN(Date.parse(raw)) ? ok(raw) : bad('an ISO 8601 date-time');
    }
    case 'uuid':
      return UUID.test(raw) ? ok(raw) : bad('a UUID');
    case 'enum':
      return field.values?.includes(raw) ? ok(raw) : bad(`one of ${field.values?.join(', ')}`);
    default:
      return raw.includes('\u0000') ? bad('text without NUL characters') : ok(raw);
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

export function truncate(value: string, max = 40): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
