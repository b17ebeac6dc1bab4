/**
 * `renamedFrom` hints in the model, and why one cannot apply to a change. A hint that silently did
 * nothing would let the old column or table be planned as a drop, so any hint that cannot apply stops
 * generation, except one already carried out: a hint whose new name is in the last snapshot and whose
 * old name is not is the record of an earlier rename, and may stay in the model.
 */
import type { TableShape } from '../sql/ddl.js';
import { dataFields } from './snapshot.js';

export interface RenameHint {
  /** Where the hint is declared, e.g. `resources.posts.fields.headline.renamedFrom`. */
  readonly path: string;
  /** The previous name as declared (`author` for a belongsTo). */
  readonly declared: string;
  /** The previous name as snapshots know it (a belongsTo `author` is stored as its key field `authorId`). */
  readonly from: string;
}

export interface RenameHints {
  /** New resource name → its hint. */
  readonly resources: ReadonlyMap<string, RenameHint>;
  /** `${resource}.${field}`, the field as snapshots know it → its hint. */
  readonly fields: ReadonlyMap<string, RenameHint>;
}

export const NO_HINTS: RenameHints = { resources: new Map(), fields: new Map() };

/** `renamedFrom` options of a model declaration (the raw form, before compilation drops them). */
export function renameHints(declaration: unknown): RenameHints {
  const resources = new Map<string, RenameHint>();
  const fields = new Map<string, RenameHint>();
  const decl = declaration as { resources?: Record<string, { renamedFrom?: unknown; fields?: Record<string, { type?: unknown; renamedFrom?: unknown }> }> };
  for (const [name, resource] of Object.entries(decl?.resources ?? {})) {
    if (typeof resource?.renamedFrom === 'string') {
      resources.set(name, { path: `resources.${name}.renamedFrom`, declared: resource.renamedFrom, from: resource.renamedFrom });
    }
    for (const [fieldName, field] of Object.entries(resource?.fields ?? {})) {
      if (typeof field?.renamedFrom !== 'string') continue;
      const path = `resources.${name}.fields.${fieldName}.renamedFrom`;
      // A belongsTo relation is stored as its key field, e.g. author → authorId.
      const key = field.type === 'belongsTo' ? `${fieldName}Id` : fieldName;
      const from = field.type === 'belongsTo' ? `${field.renamedFrom}Id` : field.renamedFrom;
      fields.set(`${name}.${key}`, { path, declared: field.renamedFrom, from });
    }
  }
  return { resources, fields };
}

const LAST = "the last migration's snapshot";

/** Why a resource hint cannot apply, or undefined when it applies or was already carried out. */
export function resourceHintProblem(name: string, hint: RenameHint, before: ReadonlySet<string>, after: ReadonlySet<string>): string | undefined {
  const old = hint.from;
  if (!before.has(old)) {
    if (before.has(name)) return undefined;
    return `${LAST} has no resource "${old}" (it has ${quoted(before)}); fix the name, or remove renamedFrom if "${name}" is a new resource`;
  }
  if (after.has(old)) return `resource "${old}" is still in the model, so it was not renamed; remove renamedFrom`;
  if (before.has(name)) {
    return (
      `${LAST} has both "${old}" and "${name}", so "${old}" cannot take the name "${name}" in one migration. ` +
      `Remove renamedFrom to drop "${old}" instead, or rename in two migrations: first drop or rename the old "${name}" and generate, then rename "${old}" to "${name}"`
    );
  }
  return undefined;
}

/** Why the field hints of a resource created by this change cannot apply. */
export function newResourceProblem(name: string): string {
  return (
    `resource "${name}" is new in this migration (${LAST} has no "${name}", and no rename to it was given), so its fields have no previous names; ` +
    `remove renamedFrom, or name the resource it was renamed from (renamedFrom on the resource, or --rename OLD=${name})`
  );
}

/** Why a field hint of a resource that existed before (as `old`) cannot apply; undefined as above. */
export function fieldHintProblem(field: string, hint: RenameHint, old: TableShape, now: TableShape): string | undefined {
  const oldFields = dataFields(old);
  const newFields = dataFields(now);
  const resource = `${old.resource}`;
  const declared = (f: string, table: TableShape) => (isKey(table, dataFields(table).get(f)) ? f.replace(/Id$/, '') : f);
  const name = declared(field, now);
  const isRelation = isKey(now, newFields.get(field));
  if (!oldFields.has(hint.from)) {
    if (oldFields.has(field)) return undefined;
    // The old name is there, but as the other kind: a plain field for a belongsTo hint or the reverse.
    const otherSpelling = isRelation ? hint.declared : `${hint.declared}Id`;
    if (oldFields.has(otherSpelling) && isKey(old, oldFields.get(otherSpelling)) !== isRelation) return kindMismatch(hint.declared, name, !isRelation);
    const fields = [...oldFields.keys()].map((f) => declared(f, old));
    return `${LAST} has no field "${hint.declared}" in ${resource} (it has ${quoted(fields)}); fix the name, or remove renamedFrom if "${name}" is a new field`;
  }
  if (newFields.has(hint.from)) return `"${hint.declared}" is still a field of ${now.resource} in the model, so it was not renamed; remove renamedFrom`;
  if (oldFields.has(field)) {
    return (
      `${LAST} has both "${hint.declared}" and "${name}" in ${resource}, so "${hint.declared}" cannot take the name "${name}" in one migration. ` +
      `Remove renamedFrom to drop "${hint.declared}" instead, or rename in two migrations: first drop or rename the old "${name}" and generate, then rename "${hint.declared}" to "${name}"`
    );
  }
  const wasRelation = isKey(old, oldFields.get(hint.from));
  return wasRelation === isRelation ? undefined : kindMismatch(hint.declared, name, wasRelation);
}

function kindMismatch(from: string, to: string, wasRelation: boolean): string {
  const [was, is] = wasRelation ? ['a belongsTo relation', 'a plain field'] : ['a plain field', 'a belongsTo relation'];
  return (
    `"${from}" was ${was} and "${to}" is ${is}: they are different columns, so one cannot be renamed to the other. ` +
    'Remove renamedFrom, and move the data in a migration you edit if it should be kept'
  );
}

function isKey(table: TableShape, column: string | undefined): boolean {
  return column !== undefined && table.foreignKeys.some((fk) => fk.column === column);
}

function quoted(names: Iterable<string>): string {
  const list = [...names].map((n) => `"${n}"`);
  return list.length === 0 ? 'none' : list.join(', ');
}
