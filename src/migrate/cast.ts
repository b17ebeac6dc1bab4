/**
 * How a column's type can change in place. Widening (integer → bigint, varchar(100) → varchar(200))
 * is safe; narrowing keeps the column but may round, drop detail or fail on rows that do not fit, so
 * it is destructive; between unrelated types (boolean → date) there is no conversion and the change
 * is refused.
 */
import { ident } from '../sql/fragments.js';

type Base = 'text' | 'varchar' | 'integer' | 'bigint' | 'numeric' | 'double precision' | 'boolean' | 'date' | 'timestamptz' | 'jsonb' | 'uuid';

interface ParsedType {
  readonly base: Base;
  readonly sql: string;
  readonly length?: number;
  readonly precision?: number;
  readonly scale?: number;
}

export type CastPlan =
  | { readonly kind: 'safe'; readonly using?: string }
  | { readonly kind: 'narrowing'; readonly using?: string; readonly risk: string }
  | { readonly kind: 'impossible'; readonly why: string };

const SIMPLE: readonly Base[] = ['text', 'integer', 'bigint', 'numeric', 'double precision', 'boolean', 'date', 'jsonb', 'uuid'];
const NUMBERS: readonly Base[] = ['integer', 'bigint', 'numeric', 'double precision'];
/** Longest text form of a value of each type, to know when a varchar(n) holds it. */
const TEXT_WIDTH: Partial<Record<Base, number>> = { integer: 11, bigint: 20, boolean: 5, date: 13, timestamptz: 35, uuid: 36, 'double precision': 24 };
/** Digits before the decimal point an integer type needs. */
const INTEGER_DIGITS: Partial<Record<Base, number>> = { integer: 10, bigint: 19 };

export function parseType(sql: string): ParsedType {
  if ((SIMPLE as readonly string[]).includes(sql)) return { base: sql as Base, sql };
  let m = /^varchar\((\d+)\)$/.exec(sql);
  if (m) return { base: 'varchar', sql, length: Number(m[1]) };
  m = /^numeric\((\d+), (\d+)\)$/.exec(sql);
  if (m) return { base: 'numeric', sql, precision: Number(m[1]), scale: Number(m[2]) };
  if (sql === 'timestamptz(3)') return { base: 'timestamptz', sql };
  throw new Error(`unknown column type "${sql}" in a snapshot`);
}

const isString = (t: ParsedType) => t.base === 'text' || t.base === 'varchar';
const isNumber = (t: ParsedType) => NUMBERS.includes(t.base);

/** The plan to change `column` from one SQL type to another (the two differ). */
export function castPlan(column: string, fromSql: string, toSql: string): CastPlan {
  const from = parseType(fromSql);
  const to = parseType(toSql);
  const col = ident(column);
  const noCast: CastPlan = { kind: 'impossible', why: `there is no safe conversion from ${from.sql} to ${to.sql}` };
  if (to.base === 'jsonb') return { kind: 'safe', using: from.base === 'jsonb' ? undefined : `to_jsonb(${col})` };
  if (from.base === 'jsonb') {
    if (isString(to)) return asText(from, to, `${col} #>> '{}'`);
    if (to.base === 'numeric' && to.precision !== undefined)
      return narrowing(`JSON that is not a number that fits ${to.sql} makes the migration fail`, `(${col} #>> '{}')::numeric`);
    return narrowing(`JSON that is not a valid ${to.sql} makes the migration fail`, `(${col} #>> '{}')::${to.sql}`);
  }
  if (isString(to)) return asText(from, to);
  if (isString(from)) {
    const using = to.base === 'numeric' ? `${col}::numeric` : `${col}::${to.sql}`;
    return narrowing(`text that is not a valid ${to.sql} makes the migration fail`, using);
  }
  if (isNumber(from) && isNumber(to)) return betweenNumbers(from, to);
  if (from.base === 'boolean' && isNumber(to)) return { kind: 'safe', using: `${col}::integer` };
  if (from.base === 'integer' && to.base === 'boolean') return narrowing('every number other than 0 becomes true', `${col}::boolean`);
  if (from.base === 'date' && to.base === 'timestamptz') return { kind: 'safe' };
  if (from.base === 'timestamptz' && to.base === 'date') return narrowing('the time of day is dropped');
  return noCast;
}

function narrowing(risk: string, using?: string): CastPlan {
  return using === undefined ? { kind: 'narrowing', risk } : { kind: 'narrowing', risk, using };
}

/** Any value has a text form; a varchar(n) narrower than it fails on longer values (never truncates). */
function asText(from: ParsedType, to: ParsedType, using?: string): CastPlan {
  const width = from.base === 'varchar' ? from.length : from.base === 'numeric' && from.precision !== undefined ? from.precision + 2 : TEXT_WIDTH[from.base];
  if (to.base === 'text' || (to.length !== undefined && width !== undefined && width <= to.length)) return using ? { kind: 'safe', using } : { kind: 'safe' };
  return narrowing(`values longer than ${to.length} characters make the migration fail`, using);
}

function betweenNumbers(from: ParsedType, to: ParsedType): CastPlan {
  const fromDigits = INTEGER_DIGITS[from.base];
  switch (to.base) {
    case 'bigint':
      return from.base === 'integer' ? { kind: 'safe' } : narrowing('fractions are rounded, and values out of range make the migration fail');
    case 'integer':
      return narrowing(
        from.base === 'bigint'
          ? 'values outside the integer range make the migration fail'
          : 'fractions are rounded, and values out of range make the migration fail',
      );
    case 'double precision':
      return from.base === 'integer' ? { kind: 'safe' } : narrowing('digits beyond about 15 significant ones are lost');
    case 'numeric': {
      if (to.precision === undefined) return from.base === 'double precision' ? narrowing('NaN and infinite values make the migration fail') : { kind: 'safe' };
      const toDigits = to.precision - (to.scale ?? 0);
      if (fromDigits !== undefined) {
        return toDigits >= fromDigits ? { kind: 'safe' } : narrowing(`values with more than ${toDigits} digits before the point make the migration fail`);
      }
      if (from.base === 'numeric' && from.precision !== undefined && toDigits >= from.precision - (from.scale ?? 0) && (to.scale ?? 0) >= (from.scale ?? 0)) {
        return { kind: 'safe' };
      }
      return narrowing(`values are rounded to ${to.scale ?? 0} decimals, and values too large for ${to.sql} make the migration fail`);
    }
    default:
      return { kind: 'impossible', why: `there is no safe conversion from ${from.sql} to ${to.sql}` };
  }
}
