import type { ErrorObject } from 'ajv';
import { withArticle } from './words.js';

/** JSON Schema type names as a sentence says them. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/**
 * One Ajv error of an app's own JSON Schema (a custom route's params, query or body) as English:
 * "must be an integer", "must be at least 1", "must be one of: a, b". Record fields have richer
 * messages built from their declaration (value-messages.ts); this covers any schema.
 */
export function schemaMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const types = String(p.type).split(',');
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'minimum':
      return `must be at least ${p.limit}`;
    case 'maximum':
      return `must be at most ${p.limit}`;
    case 'exclusiveMinimum':
      return `must be more than ${p.limit}`;
    case 'exclusiveMaximum':
      return `must be less than ${p.limit}`;
    case 'minLength':
      return `must have at least ${p.limit} character${p.limit === 1 ? '' : 's'}`;
    case 'maxLength':
      return `must have at most ${p.limit} character${p.limit === 1 ? '' : 's'}`;
    case 'minItems':
      return `must list at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must list at most ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `must match the pattern ${p.pattern}`;
    case 'format':
      return `must be ${withArticle(String(p.format))}`;
    case 'uniqueItems':
      return `must not list the same item twice (items ${p.j} and ${p.i})`;
    default:
      return e.message ?? 'is invalid';
  }
}
