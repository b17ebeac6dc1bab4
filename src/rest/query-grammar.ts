/**
 * The REST query grammar (docs/reference/query.md): reads a query string into the transport-neutral
 * arguments of src/pipeline/parse.ts. Only the syntax is checked here (parameter shapes, repeats,
 * lengths); names, values and limits are checked by the validate stage, which reports these problems
 * together with its own, so a client sees every problem at once.
 */
import type { FieldError } from '../core/errors.js';
import { KilnError } from '../core/errors.js';
import { truncate } from '../core/filter-values.js';
import { FIXED_LIMITS } from '../core/limits.js';
import type { FilterArg, IncludeArg, ListArgs, SelectionArgs } from '../pipeline/parse.js';

export type RawQuery = Record<string, string | string[] | undefined>;

const FILTER_KEY = /^([A-Za-z][A-Za-z0-9]*)(?:\.([A-Za-z][A-Za-z0-9]*))?(?:\[([A-Za-z]+)\])?$/;
const SELECTION_PARAMS = new Set(['fields', 'include']);

export function parseListQuery(raw: RawQuery): ListArgs {
  const problems: FieldError[] = [];
  const filters: FilterArg[] = [];
  // Built field by field (no spreads): this runs on every list request.
  const args: Mutable<ListArgs> = { filters, problems };
  for (const key in raw) {
    switch (key) {
      case 'fields':
      case 'include':
        break;
      case 'sort': {
        const sort = single(raw, key, FIXED_LIMITS.sortLength, problems);
        if (sort !== undefined) args.sort = sort === '' ? [] : sort.split(',');
        break;
      }
      case 'limit': {
        // Anything but digits reaches the validate stage as NaN, which it refuses with the allowed range.
        const limit = single(raw, key, 10, problems);
        if (limit !== undefined) args.limit = /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN;
        break;
      }
      case 'count': {
        const count = single(raw, key, 5, problems);
        if (count === 'true') args.count = true;
        else if (count !== undefined && count !== 'false') problems.push({ path: 'count', code: 'value', message: '"count" must be true or false' });
        break;
      }
      case 'cursor': {
        const cursor = single(raw, key, FIXED_LIMITS.cursorLength, problems);
        if (cursor !== undefined) args.cursor = cursor;
        break;
      }
      default: {
        const filter = parseFilter(key, raw[key], problems);
        if (filter) filters.push(filter);
      }
    }
  }
  readSelection(raw, args, problems);
  return args;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `fields` and `include`: all a single record accepts. */
export function parseSelectionQuery(raw: RawQuery): SelectionArgs {
  const problems: FieldError[] = [];
  for (const key of Object.keys(raw)) {
    if (!SELECTION_PARAMS.has(key)) {
      problems.push({ path: key, code: 'unknown', message: `unknown query parameter "${truncate(key)}"; a single record accepts only fields and include` });
    }
  }
  const args: Mutable<SelectionArgs> = { problems };
  readSelection(raw, args, problems);
  return args;
}

function readSelection(raw: RawQuery, args: Mutable<SelectionArgs>, problems: FieldError[]): void {
  const fields = single(raw, 'fields', FIXED_LIMITS.fieldsLength, problems);
  if (fields !== undefined) args.fields = fields.split(',').map((s) => s.trim());
  const include = single(raw, 'include', FIXED_LIMITS.includeLength, problems);
  if (include !== undefined) args.include = parseInclude(include);
}

/** `author,comments.author` → a tree of include arguments; paths sharing a prefix share its node. */
function parseInclude(raw: string): IncludeArg[] {
  type Node = { relation: string; include: Node[] };
  const root: Node[] = [];
  for (const path of raw.split(',').map((s) => s.trim())) {
    let level = root;
    for (const relation of path.split('.')) {
      let node = level.find((n) => n.relation === relation);
      if (!node) {
        node = { relation, include: [] };
        level.push(node);
      }
      level = node.include;
    }
  }
  return root;
}

function parseFilter(key: string, raw: string | string[] | undefined, problems: FieldError[]): FilterArg | undefined {
  const match = FILTER_KEY.exec(key);
  // A key that is not `field`, `relation.field` or either with `[operator]` names no field; the
  // validate stage says so, in the same words as for a well-formed unknown name.
  const [, first = key, second, operator = 'eq'] = match ?? [];
  const path = second === undefined ? [first] : [first, second];
  if (Array.isArray(raw)) {
    problems.push({ path: truncate(key), code: 'repeated', message: `"${truncate(key)}" is given more than once; use [in] for several values` });
    return undefined;
  }
  const text = raw ?? '';
  const value = operator === 'in' || operator === 'notIn' ? (text === '' ? [] : text.split(',')) : text;
  return { path, operator, value, source: key };
}

function single(raw: RawQuery, key: string, maxLength: number, problems: FieldError[]): string | undefined {
  const value = raw[key];
  if (Array.isArray(value)) {
    problems.push({ path: key, code: 'repeated', message: `"${key}" is given more than once` });
    return undefined;
  }
  if (value !== undefined && value.length > maxLength) {
    problems.push({ path: key, code: 'length', message: `"${key}" is ${value.length} characters long; at most ${maxLength}` });
    return undefined;
  }
  return value;
}

/** A write route given query parameters: every one is named. */
export function rejectQuery(query: RawQuery): void {
  const keys = Object.keys(query);
  if (keys.length > 0) {
    throw new KilnError('KILN_QUERY_INVALID', {
      detail: `this route takes no query parameters; got ${keys.map((k) => `"${k.slice(0, 40)}"`).join(', ')}`,
      errors: keys.map((k) => ({ path: k.slice(0, 40), code: 'unknown', message: 'unknown query parameter' })),
    });
  }
}
