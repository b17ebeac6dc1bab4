/** Checks of one resource: its name, its options, and its `unique` and `indexes` lists. */

import { cacheOption } from './cache-option.js';
import { checkField } from './check-field.js';
import { checkRateLimit } from './check-rate-limit.js';
import { fieldsOf, type ModelView } from './check-relation.js';
import { IDENTIFIER } from './naming.js';
import { boolean, oneOf, pathSegment, previousName, shown, sqlName, text, type ValueCheck } from './option-values.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';

const RESOURCE_OPTIONS: Readonly<Record<string, ValueCheck | undefined>> = {
  fields: undefined,
  id: oneOf(['bigint', 'uuid'], 'id type'),
  timestamps: boolean,
  table: sqlName('table'),
  path: pathSegment,
  unique: undefined,
  indexes: undefined,
  description: text('Blog posts.'),
  singular: text('person'),
  renamedFrom: previousName,
  // Checked with the other rules once the resources are built (src/access/check-rules.ts).
  access: undefined,
  cache: cacheOption,
  // Checked key by key below (check-rate-limit.ts).
  rateLimit: undefined,
};
const INDEX_OPTIONS = ['fields', 'unique', 'name'];

export function checkResource(model: ModelView, name: string, problems: ProblemList): void {
  const path = `resources.${name}`;
  const resource = model.resources[name];
  if (!IDENTIFIER.test(name)) problems.add(path, `"${name}" is not a valid resource name`, 'use letters and digits, starting with a letter (e.g. blogPosts)');
  if (!isPlainObject(resource) || !isPlainObject(resource.fields)) {
    problems.add(`${path}.fields`, 'a resource needs a "fields" object', 'declare fields: { title: { type: "string" } }');
    return;
  }
  for (const [key, value] of Object.entries(resource)) {
    if (!Object.hasOwn(RESOURCE_OPTIONS, key)) {
      problems.add(`${path}.${key}`, `unknown resource option "${key}"`, `use one of: ${Object.keys(RESOURCE_OPTIONS).join(', ')}`);
      continue;
    }
    const problem = value === undefined ? undefined : RESOURCE_OPTIONS[key]?.(value, key);
    if (problem) problems.add(`${path}.${key}`, problem.message, problem.hint);
  }
  checkRateLimit(resource.rateLimit, `${path}.rateLimit`, problems);
  const renamedFrom = resource.renamedFrom;
  if (typeof renamedFrom === 'string' && Object.hasOwn(model.resources, renamedFrom)) {
    problems.add(
      `${path}.renamedFrom`,
      `"${renamedFrom}" is still a name in this model, so it cannot be the previous name`,
      'remove renamedFrom, or fix the name',
    );
  }
  for (const fieldName of Object.keys(resource.fields)) checkField(model, name, fieldName, problems);
  checkFieldLists(model, name, problems);
}

/** The stored field names `unique` and `indexes` may use: id, timestamps, plain fields and `<relation>Id`. */
export function storedFieldNames(model: ModelView, resource: string): string[] {
  const timestamps = model.resources[resource]?.timestamps !== false;
  const names = ['id', ...(timestamps ? ['createdAt', 'updatedAt'] : [])];
  for (const [name, f] of Object.entries(fieldsOf(model, resource))) {
    if (!isPlainObject(f)) continue;
    if (f.type === 'belongsTo') names.push(`${name}Id`);
    else if (f.type !== 'hasMany' && f.type !== 'manyToMany') names.push(name);
  }
  return names;
}

function checkFieldLists(model: ModelView, name: string, problems: ProblemList): void {
  const path = `resources.${name}`;
  const resource = model.resources[name] as Record<string, unknown>;
  const stored = storedFieldNames(model, name);
  const checkList = (list: unknown, at: string) => {
    if (!Array.isArray(list) || list.length === 0) {
      problems.add(at, 'expected a non-empty list of field names', 'e.g. ["authorId", "slug"]');
      return;
    }
    for (const [i, field] of list.entries()) {
      if (typeof field !== 'string' || !stored.includes(field)) {
        problems.add(`${at}.${i}`, `${shown(field)} is not a stored field of this resource`, `use one of: ${stored.join(', ')}`);
      } else if (list.indexOf(field) !== i) {
        problems.add(`${at}.${i}`, `"${field}" is already in this list`, 'name each field once');
      }
    }
  };
  if (resource.unique !== undefined) {
    if (!Array.isArray(resource.unique)) problems.add(`${path}.unique`, 'expected a list of field lists', 'e.g. unique: [["authorId", "slug"]]');
    else for (const [i, list] of resource.unique.entries()) checkList(list, `${path}.unique.${i}`);
  }
  if (resource.indexes === undefined) return;
  if (!Array.isArray(resource.indexes)) {
    problems.add(`${path}.indexes`, 'expected a list of indexes', 'e.g. indexes: [{ fields: ["status", "createdAt"] }]');
    return;
  }
  for (const [i, index] of resource.indexes.entries()) {
    const at = `${path}.indexes.${i}`;
    if (!isPlainObject(index)) {
      problems.add(at, 'an index must be an object', 'e.g. { fields: ["status", "createdAt"], unique: false }');
      continue;
    }
    for (const key of Object.keys(index)) {
      if (!INDEX_OPTIONS.includes(key)) problems.add(`${at}.${key}`, `unknown index option "${key}"`, `use one of: ${INDEX_OPTIONS.join(', ')}`);
    }
    checkList(index.fields, `${at}.fields`);
    for (const [key, check] of [
      ['unique', boolean],
      ['name', sqlName('index')],
    ] as const) {
      const problem = index[key] === undefined ? undefined : check(index[key], key);
      if (problem) problems.add(`${at}.${key}`, problem.message, problem.hint);
    }
  }
}
