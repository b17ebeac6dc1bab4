import type { FieldError } from '../core/errors.js';
import { KilnError } from '../core/errors.js';
import type { Operations } from '../core/operations.js';
import { FILTER_OPERATORS, type Filter, type FilterOperator, type IncludeTree, type ListQuery, type Selection, type SortKey } from '../core/query.js';
import { readableFields } from '../core/rows.js';
import type { BelongsToRelation, ColumnField, Model, Resource } from '../model/ir.js';
import { MAX_IN_VALUES, operatorsFor, parseValue, truncate } from './query-values.js';

export interface GrammarLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

type RawQuery = Record<string, string | string[] | undefined>;

const FILTER_KEY = /^([A-Za-z][A-Za-z0-9]*)(?:\.([A-Za-z][A-Za-z0-9]*))?(?:\[([A-Za-z]+)\])?$/;
const MAX_SORT_KEYS = 5;
const MAX_INCLUDE_DEPTH = 3;
const SELECTION_PARAMS = new Set(['fields', 'include']);
const LIST_PARAMS = new Set(['fields', 'include', 'sort', 'limit', 'cursor', 'count']);

/**
 * The list query grammar (docs/reference/query.md). Every problem is collected and reported at once
 * as a 400 naming the parameter; nothing reaches SQL unless the whole query is valid.
 */
export class QueryGrammar {
  readonly #model: Model;
  readonly #limits: GrammarLimits;

  constructor(model: Model, limits: GrammarLimits) {
    this.#model = model;
    this.#limits = limits;
  }

  parseList(resource: Resource, raw: RawQuery, ops: Operations): ListQuery {
    const errors: FieldError[] = [];
    const filters: Filter[] = [];
    for (const [key, value] of Object.entries(raw)) {
      if (LIST_PARAMS.has(key)) continue;
      const filter = this.#parseFilter(resource, key, value, errors);
      if (filter) filters.push(filter);
    }
    const selection = this.#parseSelection(resource, raw, errors);
    const sort = this.#parseSort(resource, single(raw, 'sort', errors), errors);
    const limit = this.#parseLimit(single(raw, 'limit', errors), errors);
    const count = parseBoolean('count', single(raw, 'count', errors), errors) ?? false;
    const cursor = single(raw, 'cursor', errors);
    if (errors.length > 0) throw queryInvalid(errors);
    const query: ListQuery = { ...selection, filters, sort, limit, count };
    if (cursor === undefined) return query;
    return { ...query, after: ops.decodeCursor(resource, query, cursor) };
  }

  parseSelection(resource: Resource, raw: RawQuery): Selection {
    const errors: FieldError[] = [];
    for (const key of Object.keys(raw)) {
      if (!SELECTION_PARAMS.has(key))
        errors.push({ path: key, code: 'unknown', message: `unknown query parameter "${truncate(key)}"; a single record accepts only fields and include` });
    }
    const selection = this.#parseSelection(resource, raw, errors);
    if (errors.length > 0) throw queryInvalid(errors);
    return selection;
  }

  #parseSelection(resource: Resource, raw: RawQuery, errors: FieldError[]): Selection {
    return {
      fields: this.#parseFields(resource, single(raw, 'fields', errors), errors),
      include: this.#parseInclude(resource, single(raw, 'include', errors), errors),
    };
  }

  #parseFilter(resource: Resource, key: string, raw: string | string[] | undefined, errors: FieldError[]): Filter | undefined {
    const match = FILTER_KEY.exec(key);
    if (!match) {
      errors.push({ path: key, code: 'unknown', message: `unknown query parameter "${truncate(key)}"` });
      return undefined;
    }
    const [, first = '', second, op] = match;
    let via: BelongsToRelation | undefined;
    let owner = resource;
    let fieldName = first;
    if (second !== undefined) {
      const relation = resource.relationsByName.get(first);
      if (relation?.kind !== 'belongsTo') {
        errors.push({
          path: key,
          code: 'unknown',
          message: `"${first}" is not a belongsTo relation of ${resource.name}; filters can go through belongsTo relations only`,
        });
        return undefined;
      }
      via = relation;
      owner = this.#model.resourcesByName.get(relation.target) as Resource;
      fieldName = second;
    }
    const field = owner.fieldsByName.get(fieldName);
    if (!field || field.hidden) {
      errors.push({ path: key, code: 'unknown', message: `unknown query parameter "${truncate(key)}": ${owner.name} has no field "${truncate(fieldName)}"` });
      return undefined;
    }
    const operator = (op ?? 'eq') as FilterOperator;
    if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
      errors.push({ path: key, code: 'operator', message: `unknown operator "${truncate(operator)}"; use one of ${operatorsFor(field).join(', ')}` });
      return undefined;
    }
    if (!operatorsFor(field).includes(operator)) {
      errors.push({
        path: key,
        code: 'operator',
        message: `operator "${operator}" does not apply to ${field.type} field "${fieldName}"; use one of ${operatorsFor(field).join(', ')}`,
      });
      return undefined;
    }
    if (Array.isArray(raw)) {
      errors.push({ path: key, code: 'repeated', message: `"${truncate(key)}" is given more than once; use [in] for several values` });
      return undefined;
    }
    const value = this.#parseFilterValue(field, operator, raw ?? '', key, errors);
    return value === undefined ? undefined : { via, field, operator, value: value.value };
  }

  #parseFilterValue(field: ColumnField, operator: FilterOperator, raw: string, key: string, errors: FieldError[]): { value: unknown } | undefined {
    if (operator === 'isNull') {
      const value = parseBoolean(key, raw, errors);
      return value === undefined ? undefined : { value };
    }
    if (operator === 'in' || operator === 'notIn') {
      const parts = raw === '' ? [] : raw.split(',');
      if (parts.length === 0 || parts.length > MAX_IN_VALUES) {
        errors.push({ path: key, code: 'value', message: `give 1 to ${MAX_IN_VALUES} comma-separated values` });
        return undefined;
      }
      const values: unknown[] = [];
      for (const part of parts) {
        const parsed = parseValue(field, part);
        if (!parsed.ok) {
          errors.push({ path: key, code: 'value', message: parsed.message });
          return undefined;
        }
        values.push(parsed.value);
      }
      return { value: values };
    }
    const parsed = parseValue(field, raw);
    if (!parsed.ok) {
      errors.push({ path: key, code: 'value', message: parsed.message });
      return undefined;
    }
    return { value: parsed.value };
  }

  #parseFields(resource: Resource, raw: string | undefined, errors: FieldError[]): readonly string[] {
    const readable = readableFields(resource);
    if (raw === undefined) return readable;
    const wanted = new Set(['id']);
    for (const name of raw.split(',').map((s) => s.trim())) {
      if (!readable.includes(name)) {
        errors.push({ path: 'fields', code: 'unknown', message: `${resource.name} has no readable field "${truncate(name)}"` });
      } else wanted.add(name);
    }
    return readable.filter((name) => wanted.has(name));
  }

  #parseInclude(resource: Resource, raw: string | undefined, errors: FieldError[]): IncludeTree {
    const root = new Map<string, Map<string, unknown>>();
    if (raw === undefined) return root as IncludeTree;
    for (const path of raw.split(',').map((s) => s.trim())) {
      const names = path.split('.');
      if (names.length > MAX_INCLUDE_DEPTH) {
        errors.push({ path: 'include', code: 'depth', message: `"${truncate(path)}" is nested deeper than ${MAX_INCLUDE_DEPTH} levels` });
        continue;
      }
      let owner = resource;
      let node = root as Map<string, unknown>;
      for (const name of names) {
        const relation = owner.relationsByName.get(name);
        if (!relation) {
          errors.push({ path: 'include', code: 'unknown', message: `${owner.name} has no relation "${truncate(name)}"` });
          break;
        }
        if (!node.has(name)) node.set(name, new Map());
        node = node.get(name) as Map<string, unknown>;
        owner = this.#model.resourcesByName.get(relation.target) as Resource;
      }
    }
    return root as IncludeTree;
  }

  #parseSort(resource: Resource, raw: string | undefined, errors: FieldError[]): SortKey[] {
    const keys: SortKey[] = [];
    const seen = new Set<string>();
    for (const item of raw === undefined || raw === '' ? [] : raw.split(',')) {
      const descending = item.startsWith('-');
      const name = descending ? item.slice(1) : item;
      const field = resource.fieldsByName.get(name);
      if (!field || field.hidden || field.type === 'json') {
        errors.push({ path: 'sort', code: 'unknown', message: `cannot sort by "${truncate(name)}": ${resource.name} has no sortable field of that name` });
      } else if (seen.has(name)) {
        errors.push({ path: 'sort', code: 'repeated', message: `"${name}" appears twice in sort` });
      } else {
        seen.add(name);
        keys.push({ field, descending });
      }
    }
    if (keys.length > MAX_SORT_KEYS) errors.push({ path: 'sort', code: 'tooMany', message: `sort by at most ${MAX_SORT_KEYS} fields` });
    // The id makes the order total, which keyset pagination needs to never skip or repeat a row.
    if (!seen.has('id')) keys.push({ field: resource.fieldsByName.get('id') as ColumnField, descending: false });
    return keys;
  }

  #parseLimit(raw: string | undefined, errors: FieldError[]): number {
    if (raw === undefined) return this.#limits.defaultLimit;
    const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(n >= 1 && n <= this.#limits.maxLimit)) {
      errors.push({ path: 'limit', code: 'range', message: `limit must be a whole number from 1 to ${this.#limits.maxLimit}` });
      return this.#limits.defaultLimit;
    }
    return n;
  }
}

function single(raw: RawQuery, key: string, errors: FieldError[]): string | undefined {
  const value = raw[key];
  if (Array.isArray(value)) {
    errors.push({ path: key, code: 'repeated', message: `"${key}" is given more than once` });
    return undefined;
  }
  return value;
}

function parseBoolean(key: string, raw: string | undefined, errors: FieldError[]): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  errors.push({ path: key, code: 'value', message: `"${key}" must be true or false` });
  return undefined;
}

export function queryInvalid(errors: readonly FieldError[]): KilnError {
  const first = errors[0];
  const detail = errors.length === 1 && first ? `${truncate(first.path)}: ${first.message}` : `${errors.length} problems in the query string`;
  return new KilnError('KILN_QUERY_INVALID', { detail, errors });
}
