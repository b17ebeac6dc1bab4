/**
 * Builds the IR of one resource from a declaration that passed every check: columns in declaration
 * order (id first, timestamps last), relations, and the names of constraints and indexes.
 */

import { cacheOf } from './cache-option.js';
import { rateLimitsOf } from './check-rate-limit.js';
import { belongsToPointingAt, type ModelView, ownResource } from './check-relation.js';
import type { OnDelete, ScalarType } from './declaration.js';
import { CALLER_ID } from './field-rules.js';
import { FrozenMap } from './frozen-map.js';
import type { BelongsToRelation, ColumnField, IndexDefinition, Relation, Resource, UniqueConstraint } from './ir.js';
import type { JoinTablePlan } from './join-tables.js';
import { singularPhrase, toKebabCase, toSnakeCase } from './naming.js';
import { SQL_NAME } from './option-values.js';
import type { ProblemList } from './problems.js';

type Decl = Readonly<Record<string, unknown>>;

const SCALAR_OPTIONS = ['minLength', 'maxLength', 'pattern', 'format', 'min', 'max', 'precision', 'scale', 'values'] as const;

/** The resource's table: its `table` option, or its name in snake_case (also when `table` is invalid, which is reported). */
export function tableOf(model: ModelView, resource: string): string {
  const table = ownResource(model, resource)?.table;
  return typeof table === 'string' && SQL_NAME.test(table) ? table : toSnakeCase(resource);
}

export function buildResource(model: ModelView, name: string, joins: JoinTablePlan, problems: ProblemList): Resource {
  const r = ownResource(model, name) as Decl;
  const table = tableOf(model, name);
  const idType = r.id === 'uuid' ? 'uuid' : 'bigint';
  const timestamps = r.timestamps !== false;
  const fields: ColumnField[] = [systemField('id', idType, 'id')];
  const relations: Relation[] = [];
  for (const [fieldName, f] of Object.entries(r.fields as Record<string, Decl>)) {
    const description = typeof f.description === 'string' ? f.description : undefined;
    if (f.type === 'belongsTo') {
      const target = f.target as string;
      const foreignKey = `${fieldName}Id`;
      const nullable = f.nullable === true;
      const fromCaller = f.default === CALLER_ID;
      fields.push({
        ...baseColumn(foreignKey, ownResource(model, target)?.id === 'uuid' ? 'uuid' : 'bigint', 'foreignKey'),
        nullable,
        required: typeof f.required === 'boolean' ? f.required : !nullable && !fromCaller,
        hasDefault: nullable,
        default: nullable ? null : undefined,
        indexed: f.index !== false,
        readOnly: f.readOnly === true || fromCaller,
        description: description ?? `Key of the related ${target} (relation "${fieldName}").`,
        ...(fromCaller && { fromCaller: 'id' as const }),
      });
      relations.push({
        kind: 'belongsTo',
        name: fieldName,
        target,
        foreignKey,
        onDelete: (f.onDelete as OnDelete | undefined) ?? 'restrict',
        constraint: `${table}_${toSnakeCase(foreignKey)}_fkey`,
        description,
      } satisfies BelongsToRelation);
    } else if (f.type === 'hasMany') {
      const target = f.target as string;
      const inverse = typeof f.inverse === 'string' ? f.inverse : (belongsToPointingAt(model, target, name)[0] as string);
      relations.push({ kind: 'hasMany', name: fieldName, target, inverse, foreignKey: `${inverse}Id`, description });
    } else if (f.type === 'manyToMany') {
      const target = f.target as string;
      relations.push({
        kind: 'manyToMany',
        name: fieldName,
        target,
        joinTable: joins.tableOf.get(`${name}.${fieldName}`) as string,
        sourceColumn: `${table}_id`,
        targetColumn: `${tableOf(model, target)}_id`,
        description,
      });
    } else {
      fields.push(dataField(fieldName, f, description));
    }
  }
  if (timestamps) fields.push(systemField('createdAt', 'datetime', 'createdAt'), systemField('updatedAt', 'datetime', 'updatedAt'));
  const { uniques, indexes } = keysOf(r, table, fields);
  for (const key of [...uniques, ...indexes]) {
    if (!SQL_NAME.test(key.name))
      problems.add(
        `resources.${name}`,
        `generated constraint name "${key.name}" is longer than PostgreSQL allows`,
        'give the index a shorter name, or the resource a shorter table',
      );
  }
  return {
    name,
    table,
    path: typeof r.path === 'string' ? r.path : toKebabCase(name),
    idType,
    timestamps,
    fields,
    fieldsByName: new FrozenMap(fields.map((f) => [f.name, f])),
    relations,
    relationsByName: new FrozenMap(relations.map((rel) => [rel.name, rel])),
    uniques,
    indexes,
    description: typeof r.description === 'string' ? r.description : undefined,
    singular: typeof r.singular === 'string' ? r.singular : singularPhrase(name),
    ...cacheOf(r.cache),
    ...(r.rateLimit !== undefined && { rateLimit: rateLimitsOf(r.rateLimit) }),
  };
}

function dataField(name: string, f: Decl, description: string | undefined): ColumnField {
  const nullable = f.nullable === true;
  // `default: auth.id` is no column default: the server sets the value on create (src/core/operations.ts).
  const fromCaller = f.default === CALLER_ID;
  const readOnly = f.readOnly === true || fromCaller;
  const hasDefault = (f.default !== undefined && !fromCaller) || nullable;
  const constraints: Record<string, unknown> = {};
  for (const key of SCALAR_OPTIONS) if (f[key] !== undefined) constraints[key] = f[key];
  return {
    ...baseColumn(name, f.type as ScalarType, 'data'),
    ...(constraints as Partial<ColumnField>),
    nullable,
    required: typeof f.required === 'boolean' ? f.required : !hasDefault && !readOnly,
    hasDefault,
    default: f.default !== undefined && !fromCaller ? f.default : nullable ? null : undefined,
    unique: f.unique === true,
    indexed: f.index === true,
    readOnly,
    hidden: f.hidden === true,
    description,
    example: f.example,
    ...(fromCaller && { fromCaller: 'id' as const }),
  };
}

function keysOf(r: Decl, table: string, fields: readonly ColumnField[]): { uniques: UniqueConstraint[]; indexes: IndexDefinition[] } {
  const declaredIndexes = (r.indexes ?? []) as readonly { fields: readonly string[]; unique?: boolean; name?: string }[];
  const named = (fieldNames: readonly string[], suffix: string) => `${table}_${fieldNames.map(toSnakeCase).join('_')}_${suffix}`;
  const uniques: UniqueConstraint[] = [
    ...fields.filter((f) => f.unique).map((f) => ({ name: `${table}_${f.column}_key`, fields: [f.name] })),
    ...((r.unique ?? []) as readonly (readonly string[])[]).map((list) => ({ name: named(list, 'key'), fields: [...list] })),
    ...declaredIndexes.filter((ix) => ix.unique === true).map((ix) => ({ name: ix.name ?? named(ix.fields, 'key'), fields: [...ix.fields] })),
  ];
  const indexes: IndexDefinition[] = [
    ...fields.filter((f) => f.indexed && !f.unique).map((f) => ({ name: `${table}_${f.column}_idx`, fields: [f.name] })),
    ...declaredIndexes.filter((ix) => ix.unique !== true).map((ix) => ({ name: ix.name ?? named(ix.fields, 'idx'), fields: [...ix.fields] })),
  ];
  return { uniques, indexes };
}

function systemField(name: string, type: 'bigint' | 'uuid' | 'datetime', role: ColumnField['role']): ColumnField {
  return {
    ...baseColumn(name, type, role),
    readOnly: true,
    hasDefault: true,
    required: false,
    description:
      role === 'id'
        ? 'Identifier, assigned by the server.'
        : role === 'createdAt'
          ? 'When the record was created (UTC).'
          : 'When the record was last changed (UTC).',
  };
}

function baseColumn(name: string, type: ColumnField['type'], role: ColumnField['role']): ColumnField {
  return {
    kind: 'column',
    name,
    column: toSnakeCase(name),
    type,
    role,
    nullable: false,
    required: false,
    default: undefined,
    hasDefault: false,
    unique: false,
    indexed: false,
    readOnly: false,
    hidden: false,
  };
}
