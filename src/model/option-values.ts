/**
 * Type and range checks for option values. A model is code or a file someone wrote, and its values
 * reach DDL (`varchar(maxLength)`), request validation and the OpenAPI document, so none is trusted:
 * `required: "no"` would be truthy and `maxLength: "1); DROP …"` would be SQL. Each check names
 * what is wrong with the value as written and what to write instead.
 */
import { IDENTIFIER } from './naming.js';

/** Why a value is wrong and how to fix it, or undefined when it is fine. */
export type ValueCheck = (value: unknown, option: string) => { message: string; hint: string } | undefined;

/** The most characters PostgreSQL allows in `varchar(n)`. */
export const MAX_STRING_LENGTH = 10_485_760;
export const INT32 = { min: -2_147_483_648, max: 2_147_483_647 } as const;
export const SQL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const PATH_SEGMENT = /^[a-z0-9][a-z0-9-]*$/;

/** A value as the user wrote it, short enough for a message. */
export function shown(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

export const boolean: ValueCheck = (value, option) =>
  typeof value === 'boolean'
    ? undefined
    : { message: `${option} must be true or false, not ${shown(value)}`, hint: `write ${option}: true or ${option}: false (a boolean, not a string)` };

export function integer(min: number, max: number, example: number): ValueCheck {
  return (value, option) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : { message: `${option} must be a whole number from ${min} to ${max}, not ${shown(value)}`, hint: `e.g. ${option}: ${example}` };
}

export const finiteNumber: ValueCheck = (value, option) =>
  typeof value === 'number' && Number.isFinite(value)
    ? undefined
    : { message: `${option} must be a finite number, not ${shown(value)}`, hint: `e.g. ${option}: 0` };

export function text(example: string): ValueCheck {
  return (value, option) =>
    typeof value === 'string' ? undefined : { message: `${option} must be a string, not ${shown(value)}`, hint: `e.g. ${option}: "${example}"` };
}

/** One of a closed set of strings; `what` names the option in messages (`id type`). */
export function oneOf(values: readonly string[], what?: string): ValueCheck {
  return (value, option) =>
    typeof value === 'string' && values.includes(value)
      ? undefined
      : { message: `unknown ${what ?? option} ${shown(value)}`, hint: `use one of: ${values.join(', ')}` };
}

export function sqlName(what: string): ValueCheck {
  return (value) =>
    typeof value === 'string' && SQL_NAME.test(value)
      ? undefined
      : { message: `${shown(value)} is not a valid ${what} name`, hint: 'use lower-case letters, digits and _, starting with a letter or _ (at most 63)' };
}

export const pathSegment: ValueCheck = (value) =>
  typeof value === 'string' && PATH_SEGMENT.test(value)
    ? undefined
    : { message: `${shown(value)} is not a valid URL segment`, hint: 'use lower-case letters, digits and -, starting with a letter or digit' };

/** `renamedFrom`: a previous resource or field name. */
export const previousName: ValueCheck = (value, option) =>
  typeof value === 'string' && IDENTIFIER.test(value)
    ? undefined
    : { message: `${option} must be the previous name (letters and digits, starting with a letter), not ${shown(value)}`, hint: `e.g. ${option}: "title"` };

/** A list of distinct, non-empty strings (enum values). */
export const stringList: ValueCheck = (value, option) => {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
    return { message: `${option} must be a non-empty list of non-empty strings`, hint: `e.g. ${option}: ["draft", "published"]` };
  }
  const repeated = value.find((v, i) => value.indexOf(v) !== i);
  if (repeated !== undefined) return { message: `${option} repeat: ${shown(repeated)} is listed more than once`, hint: 'list each value once' };
  return undefined;
};
