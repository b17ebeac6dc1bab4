/**
 * The declaration as plain data, read once. A TypeScript model is live JavaScript: a getter can
 * answer one thing to the checks and another to the build, an object can inherit keys from its
 * prototype, and the compiled model must neither share nor freeze objects the caller still holds.
 * Copying every own enumerable property into fresh objects and arrays, once, gives the checks and
 * the build one consistent value to work on. YAML and JSON files are plain data already; copying
 * them costs little.
 */
import type { ProblemList } from './problems.js';

export function toPlainData(value: unknown, path: string, problems: ProblemList, ancestors = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (!Array.isArray(value) && !isPlainObject(value)) return value; // a Map, Date or class instance: the checks refuse it where it stands
  if (ancestors.has(value)) {
    problems.add(path || '(model)', 'refers to itself (a circular structure)', 'write the model as plain data: objects, lists and values');
    return undefined;
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return Array.from(value, (item, i) => toPlainData(item, join(path, String(i)), problems, ancestors));
    const entries: [string, unknown][] = [];
    for (const key of Object.keys(value)) {
      const at = join(path, key);
      try {
        entries.push([key, toPlainData((value as Record<string, unknown>)[key], at, problems, ancestors)]);
      } catch (error) {
        problems.add(at, `cannot be read: ${(error as Error)?.message ?? String(error)}`, 'write the model as plain data, without getters that throw');
      }
    }
    // fromEntries defines own properties, so even a key named "__proto__" stays an ordinary entry.
    return Object.fromEntries(entries);
  } finally {
    ancestors.delete(value);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
