/**
 * Checks of a relation field: its target is a resource of the model, its inverse a belongsTo of the
 * target pointing back. Names are looked up as own properties only, so `constructor`, `toString` or
 * `__proto__` are never found on Object.prototype and taken for a resource or a field.
 */
import { CALLER_ID } from './field-rules.js';
import { shown } from './option-values.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';

/** The declaration as plain data (plain-data.ts), before its checks. */
export interface ModelView {
  readonly resources: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The own field declarations of a resource, or an empty object when it has none (reported elsewhere). */
export function fieldsOf(model: ModelView, resource: string): Readonly<Record<string, unknown>> {
  const r = ownResource(model, resource);
  return r && isPlainObject(r.fields) ? r.fields : {};
}

export function ownResource(model: ModelView, name: unknown): Readonly<Record<string, unknown>> | undefined {
  if (typeof name !== 'string' || !Object.hasOwn(model.resources, name)) return undefined;
  const r = model.resources[name];
  return isPlainObject(r) ? r : undefined;
}

/** The belongsTo fields of `target` that point at `resource`, by name. */
export function belongsToPointingAt(model: ModelView, target: string, resource: string): string[] {
  return Object.entries(fieldsOf(model, target))
    .filter(([, f]) => isPlainObject(f) && f.type === 'belongsTo' && f.target === resource)
    .map(([name]) => name);
}

export function checkRelation(
  model: ModelView,
  resourceName: string,
  name: string,
  type: 'belongsTo' | 'hasMany' | 'manyToMany',
  options: Readonly<Record<string, unknown>>,
  problems: ProblemList,
): void {
  const path = `resources.${resourceName}.fields.${name}`;
  const declared = fieldsOf(model, resourceName)[name] as Record<string, unknown>;
  const target = options.target as string | undefined;
  if (declared.target === undefined) {
    problems.add(`${path}.target`, 'a relation needs a target', `name the resource it points at: use one of: ${Object.keys(model.resources).join(', ')}`);
    return;
  }
  if (target === undefined) return; // not a string: reported with the option values
  if (!ownResource(model, target)) {
    problems.add(`${path}.target`, `relation to a missing resource ${shown(target)}`, `use one of: ${Object.keys(model.resources).join(', ')}`);
    return;
  }
  if (type === 'belongsTo' && declared.default !== undefined && declared.default !== CALLER_ID) {
    problems.add(
      `${path}.default`,
      `a relation's default can only be ${CALLER_ID}, not ${shown(declared.default)}`,
      `write default: ${CALLER_ID} (the caller's account), or drop it`,
    );
  }
  if (type === 'belongsTo' && options.onDelete === 'setNull' && options.nullable !== true) {
    problems.add(`${path}.onDelete`, 'onDelete: setNull needs nullable: true', 'add nullable: true or choose restrict/cascade');
  }
  // An inverse that is not a string is reported with the option values; nothing to infer then.
  if (type === 'hasMany' && (declared.inverse === undefined || options.inverse !== undefined))
    checkInverse(model, resourceName, target, options.inverse as string | undefined, path, problems);
  if (type === 'manyToMany' && target === resourceName) {
    problems.add(
      `${path}.target`,
      'a manyToMany relation of a resource to itself is not supported yet',
      'model it as a join resource with two belongsTo fields',
    );
  }
}

function checkInverse(model: ModelView, resource: string, target: string, inverse: string | undefined, path: string, problems: ProblemList): void {
  const inverses = belongsToPointingAt(model, target, resource);
  if (inverse !== undefined) {
    if (!inverses.includes(inverse)) {
      problems.add(
        `${path}.inverse`,
        `"${target}" has no belongsTo ${shown(inverse)} pointing at "${resource}"`,
        `add ${inverse}: belongsTo("${resource}") to ${target}`,
      );
    }
    return;
  }
  if (inverses.length === 1) return;
  const why =
    inverses.length === 0
      ? `"${target}" has no belongsTo pointing at "${resource}"`
      : `"${target}" has ${inverses.length} belongsTo fields pointing at "${resource}"`;
  problems.add(
    path,
    `hasMany needs exactly one inverse: ${why}`,
    inverses.length === 0 ? `add a belongsTo("${resource}") field to ${target}` : `name the one to use with inverse: "…" (one of: ${inverses.join(', ')})`,
  );
}
