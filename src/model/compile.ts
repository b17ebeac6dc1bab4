import type { BelongsToDeclaration, FieldDeclaration, ManyToManyDeclaration, ModelDeclaration, ResourceDeclaration } from './declaration.js';
import { checkOptionNames, RELATION_TYPES, SCALAR_TYPES, valueProblem } from './field-rules.js';
import type { BelongsToRelation, ColumnField, IndexDefinition, JoinTable, Model, Relation, Resource, UniqueConstraint } from './ir.js';
import { IDENTIFIER, toKebabCase, toSnakeCase } from './naming.js';
import { type ModelProblem, ProblemList } from './problems.js';

/**
 * Field names that would collide with the list query grammar (`?limit=…`) or with fields Kiln adds.
 * Reserving them at load time is cheaper than a confusing 400 later.
 */
export const RESERVED_FIELD_NAMES = ['id', 'createdAt', 'updatedAt', 'sort', 'limit', 'cursor', 'fields', 'include', 'count'];
const RESOURCE_KEYS = ['fields', 'id', 'timestamps', 'table', 'path', 'unique', 'indexes', 'description', 'renamedFrom'];
const SQL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PATH_SEGMENT = /^[a-z0-9][a-z0-9-]*$/;

export type CompileResult = { ok: true; model: Model } | { ok: false; problems: readonly ModelProblem[] };

/** Validates a declaration and builds the frozen IR. Reports every problem, never just the first. */
export function compileModel(input: unknown): CompileResult {
  const problems = new ProblemList();
  if (!isObject(input) || !isObject(input.resources)) {
    problems.add('resources', 'the model must have a "resources" object', 'declare { resources: { posts: { fields: { … } } } }');
    return { ok: false, problems: problems.items };
  }
  const decl = input as unknown as ModelDeclaration;
  for (const key of Object.keys(input)) {
    if (key !== 'resources') problems.add(key, `unknown top-level key "${key}"`, 'the model has only "resources"');
  }
  const names = Object.keys(decl.resources);
  if (names.length === 0) problems.add('resources', 'no resources are declared', 'declare at least one resource');
  for (const name of names) checkResource(decl, name, problems);
  if (!problems.empty) return { ok: false, problems: problems.items };

  const joinTables = new Map<string, JoinTable>();
  const resources = names.map((name) => buildResource(decl, name, joinTables, problems));
  checkCollisions(resources, joinTables, problems);
  if (!problems.empty) return { ok: false, problems: problems.items };
  const model: Model = deepFreeze({
    resources,
    resourcesByName: new Map(resources.map((r) => [r.name, r])),
    joinTables: [...joinTables.values()],
  });
  return { ok: true, model };
}

function checkResource(model: ModelDeclaration, name: string, problems: ProblemList): void {
  const path = `resources.${name}`;
  const resource = model.resources[name] as unknown;
  if (!IDENTIFIER.test(name)) problems.add(path, `"${name}" is not a valid resource name`, 'use letters and digits, starting with a letter (e.g. blogPosts)');
  if (!isObject(resource) || !isObject(resource.fields)) {
    problems.add(`${path}.fields`, 'a resource needs a "fields" object', 'declare fields: { title: { type: "string" } }');
    return;
  }
  for (const key of Object.keys(resource)) {
    if (!RESOURCE_KEYS.includes(key)) problems.add(`${path}.${key}`, `unknown resource option "${key}"`, `use one of: ${RESOURCE_KEYS.join(', ')}`);
  }
  const r = resource as unknown as ResourceDeclaration;
  if (r.id !== undefined && r.id !== 'bigint' && r.id !== 'uuid')
    problems.add(`${path}.id`, `unknown id type "${String(r.id)}"`, 'use "bigint" (default) or "uuid"');
  if (r.table !== undefined && !SQL_NAME.test(r.table))
    problems.add(`${path}.table`, `"${r.table}" is not a valid table name`, 'use lower-case letters, digits and _ (at most 63)');
  if (r.path !== undefined && !PATH_SEGMENT.test(r.path))
    problems.add(`${path}.path`, `"${r.path}" is not a valid URL segment`, 'use lower-case letters, digits and -');
  checkRenamedFrom(r.renamedFrom, `${path}.renamedFrom`, Object.keys(model.resources), problems);
  for (const [fieldName, field] of Object.entries(r.fields)) checkField(model, r, name, fieldName, field, problems);
  checkFieldLists(r, path, problems);
}

function checkField(
  model: ModelDeclaration,
  resource: ResourceDeclaration,
  resourceName: string,
  name: string,
  field: FieldDeclaration,
  problems: ProblemList,
): void {
  const path = `resources.${resourceName}.fields.${name}`;
  if (!IDENTIFIER.test(name)) problems.add(path, `"${name}" is not a valid field name`, 'use letters and digits, starting with a letter (camelCase)');
  if (RESERVED_FIELD_NAMES.includes(name)) problems.add(path, `"${name}" is a reserved name`, `rename it; reserved: ${RESERVED_FIELD_NAMES.join(', ')}`);
  if (!isObject(field) || typeof field.type !== 'string') {
    problems.add(`${path}.type`, 'a field needs a "type"', `use one of: ${[...SCALAR_TYPES, ...RELATION_TYPES].join(', ')}`);
    return;
  }
  const known = (SCALAR_TYPES as readonly string[]).includes(field.type) || (RELATION_TYPES as readonly string[]).includes(field.type);
  if (!known) {
    problems.add(`${path}.type`, `unknown type "${field.type}"`, `use one of: ${[...SCALAR_TYPES, ...RELATION_TYPES].join(', ')}`);
    return;
  }
  checkOptionNames(field, path, problems);
  if ('renamedFrom' in field) checkRenamedFrom(field.renamedFrom, `${path}.renamedFrom`, Object.keys(resource.fields), problems);
  if (field.type === 'belongsTo' || field.type === 'hasMany' || field.type === 'manyToMany') {
    checkRelation(model, resourceName, field, path, problems);
    if (field.type === 'belongsTo' && resource.fields[`${name}Id`]) {
      problems.add(path, `the key field "${name}Id" this relation adds is already declared`, `remove the declared "${name}Id" field; belongsTo adds it`);
    }
    return;
  }
  checkScalar(field, path, problems);
}

function checkScalar(field: Exclude<FieldDeclaration, { target: string }>, path: string, problems: ProblemList): void {
  if (field.type === 'enum') {
    const values = field.values as unknown;
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) {
      problems.add(`${path}.values`, 'an enum needs a non-empty list of non-empty strings', 'declare values: ["draft", "published"]');
      return;
    }
    if (new Set(values).size !== values.length) problems.add(`${path}.values`, 'enum values repeat', 'list each value once');
  }
  if ('pattern' in field && field.pattern !== undefined) {
    try {
      new RegExp(field.pattern, 'u');
    } catch {
      problems.add(`${path}.pattern`, `"${field.pattern}" is not a valid regular expression`, 'fix the expression (JavaScript syntax, unicode mode)');
    }
  }
  if ('format' in field && field.format !== undefined && !['email', 'url', 'uuid'].includes(field.format)) {
    problems.add(`${path}.format`, `unknown format "${String(field.format)}"`, 'use email, url or uuid');
  }
  if ('minLength' in field && 'maxLength' in field && field.minLength !== undefined && field.maxLength !== undefined && field.minLength > field.maxLength) {
    problems.add(`${path}.minLength`, 'minLength is greater than maxLength', 'make minLength ≤ maxLength');
  }
  if ('min' in field && 'max' in field && field.min !== undefined && field.max !== undefined && field.min > field.max) {
    problems.add(`${path}.min`, 'min is greater than max', 'make min ≤ max');
  }
  if (field.type === 'decimal') {
    const { precision, scale } = field;
    if (precision !== undefined && (!Number.isInteger(precision) || precision < 1 || precision > 1000)) {
      problems.add(`${path}.precision`, 'precision must be an integer from 1 to 1000', 'e.g. precision: 12');
    }
    if (scale !== undefined && (!Number.isInteger(scale) || scale < 0 || (precision !== undefined && scale > precision))) {
      problems.add(`${path}.scale`, 'scale must be an integer from 0 to precision', 'e.g. precision: 12, scale: 2');
    }
    if (scale !== undefined && precision === undefined) problems.add(`${path}.scale`, 'scale needs precision', 'add precision');
  }
  if (field.default !== undefined) {
    const why = valueProblem(field, field.default);
    if (why)
      problems.add(`${path}.default`, `default ${JSON.stringify(field.default)} does not fit a ${field.type} field: ${why}`, 'change the default or the type');
  }
  if (field.hidden && field.readOnly) problems.add(path, 'a field cannot be both hidden and readOnly: nobody could write or read it', 'drop one of the two');
  if (field.required === false && !field.nullable && field.default === undefined) {
    problems.add(path, 'an optional field needs a default or nullable: true, or rows would be stored without a value', 'add default: … or nullable: true');
  }
  if (field.readOnly && field.required) problems.add(path, 'a readOnly field cannot be required in a request body', 'drop required');
  if (field.readOnly && !field.nullable && field.default === undefined) {
    problems.add(path, 'a readOnly field is set by the server, so it needs a default or nullable: true', 'add default: … or nullable: true');
  }
}

function checkRelation(
  model: ModelDeclaration,
  resourceName: string,
  field: Extract<FieldDeclaration, { target: string }>,
  path: string,
  problems: ProblemList,
): void {
  const target = model.resources[field.target];
  if (typeof field.target !== 'string' || !target) {
    const known = Object.keys(model.resources).join(', ');
    problems.add(`${path}.target`, `relation to a missing resource "${String(field.target)}"`, `use one of: ${known}`);
    return;
  }
  if (field.type === 'belongsTo') {
    if (field.onDelete !== undefined && !['restrict', 'cascade', 'setNull'].includes(field.onDelete)) {
      problems.add(`${path}.onDelete`, `unknown onDelete "${String(field.onDelete)}"`, 'use restrict, cascade or setNull');
    }
    if (field.onDelete === 'setNull' && !field.nullable)
      problems.add(`${path}.onDelete`, 'onDelete: setNull needs nullable: true', 'add nullable: true or choose restrict/cascade');
  }
  if (field.type === 'hasMany') {
    const inverses = Object.entries(target.fields ?? {}).filter(
      ([, f]) => isObject(f) && f.type === 'belongsTo' && (f as BelongsToDeclaration).target === resourceName,
    );
    if (field.inverse !== undefined) {
      const found = inverses.some(([n]) => n === field.inverse);
      if (!found)
        problems.add(
          `${path}.inverse`,
          `"${field.target}" has no belongsTo "${field.inverse}" pointing at "${resourceName}"`,
          `add ${field.inverse}: belongsTo("${resourceName}") to ${field.target}`,
        );
    } else if (inverses.length !== 1) {
      const why =
        inverses.length === 0
          ? `"${field.target}" has no belongsTo pointing at "${resourceName}"`
          : `"${field.target}" has ${inverses.length} belongsTo fields pointing at "${resourceName}"`;
      problems.add(
        path,
        `hasMany needs exactly one inverse: ${why}`,
        inverses.length === 0 ? `add a belongsTo("${resourceName}") field to ${field.target}` : 'name the one to use with inverse: "…"',
      );
    }
  }
  if (field.type === 'manyToMany') {
    if (field.target === resourceName)
      problems.add(
        `${path}.target`,
        'a manyToMany relation of a resource to itself is not supported yet',
        'model it as a join resource with two belongsTo fields',
      );
    if (field.through !== undefined && !SQL_NAME.test(field.through))
      problems.add(`${path}.through`, `"${field.through}" is not a valid table name`, 'use lower-case letters, digits and _');
  }
}

/** A previous name is only a migration hint; it must not be a name the model still uses. */
function checkRenamedFrom(value: unknown, path: string, current: readonly string[], problems: ProblemList): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    problems.add(path, 'renamedFrom must be the previous name (letters and digits, starting with a letter)', 'e.g. renamedFrom: "title"');
  } else if (current.includes(value)) {
    problems.add(path, `"${value}" is still a name in this model, so it cannot be the previous name`, 'remove renamedFrom, or fix the name');
  }
}

function checkFieldLists(r: ResourceDeclaration, path: string, problems: ProblemList): void {
  const columnNames = new Set(['id', ...(r.timestamps === false ? [] : ['createdAt', 'updatedAt'])]);
  for (const [name, f] of Object.entries(r.fields)) {
    if (!isObject(f)) continue;
    if (f.type === 'belongsTo') columnNames.add(`${name}Id`);
    else if (f.type !== 'hasMany' && f.type !== 'manyToMany') columnNames.add(name);
  }
  const checkList = (list: unknown, at: string) => {
    if (!Array.isArray(list) || list.length === 0) {
      problems.add(at, 'expected a non-empty list of field names', 'e.g. ["authorId", "slug"]');
      return;
    }
    for (const [i, name] of list.entries()) {
      if (typeof name !== 'string' || !columnNames.has(name)) {
        problems.add(`${at}.${i}`, `"${String(name)}" is not a stored field of this resource`, `use one of: ${[...columnNames].join(', ')}`);
      }
    }
  };
  if (r.unique !== undefined) {
    if (!Array.isArray(r.unique)) problems.add(`${path}.unique`, 'expected a list of field lists', 'e.g. unique: [["authorId", "slug"]]');
    else for (const [i, list] of r.unique.entries()) checkList(list, `${path}.unique.${i}`);
  }
  if (r.indexes !== undefined) {
    if (!Array.isArray(r.indexes)) problems.add(`${path}.indexes`, 'expected a list of indexes', 'e.g. indexes: [{ fields: ["status", "createdAt"] }]');
    else for (const [i, index] of r.indexes.entries()) checkList(isObject(index) ? index.fields : undefined, `${path}.indexes.${i}.fields`);
  }
}

function buildResource(decl: ModelDeclaration, name: string, joinTables: Map<string, JoinTable>, problems: ProblemList): Resource {
  const r = decl.resources[name] as ResourceDeclaration;
  const table = r.table ?? toSnakeCase(name);
  const idType = r.id ?? 'bigint';
  const timestamps = r.timestamps !== false;
  const fields: ColumnField[] = [systemField('id', idType === 'uuid' ? 'uuid' : 'bigint', 'id')];
  const relations: Relation[] = [];
  for (const [fieldName, f] of Object.entries(r.fields)) {
    if (f.type === 'belongsTo') {
      const target = decl.resources[f.target] as ResourceDeclaration;
      const foreignKey = `${fieldName}Id`;
      const nullable = f.nullable === true;
      fields.push({
        ...baseColumn(foreignKey, target.id === 'uuid' ? 'uuid' : 'bigint', 'foreignKey'),
        nullable,
        required: f.required ?? !nullable,
        hasDefault: nullable,
        default: nullable ? null : undefined,
        indexed: f.index !== false,
        readOnly: f.readOnly === true,
        description: f.description ?? `Key of the related ${f.target} (relation "${fieldName}").`,
      });
      relations.push({
        kind: 'belongsTo',
        name: fieldName,
        target: f.target,
        foreignKey,
        onDelete: f.onDelete ?? 'restrict',
        constraint: `${table}_${toSnakeCase(foreignKey)}_fkey`,
        description: f.description,
      } satisfies BelongsToRelation);
    } else if (f.type === 'hasMany') {
      const target = decl.resources[f.target] as ResourceDeclaration;
      const inverse = f.inverse ?? (Object.entries(target.fields).find(([, tf]) => tf.type === 'belongsTo' && tf.target === name)?.[0] as string);
      relations.push({ kind: 'hasMany', name: fieldName, target: f.target, inverse, foreignKey: `${inverse}Id`, description: f.description });
    } else if (f.type === 'manyToMany') {
      relations.push(buildManyToMany(decl, name, table, fieldName, f, joinTables));
    } else {
      const nullable = f.nullable === true;
      const hasDefault = f.default !== undefined || nullable;
      fields.push({
        ...baseColumn(fieldName, f.type, 'data'),
        ...scalarConstraints(f),
        nullable,
        required: f.required ?? (!hasDefault && !f.readOnly),
        hasDefault,
        default: f.default !== undefined ? f.default : nullable ? null : undefined,
        unique: f.unique === true,
        indexed: f.index === true,
        readOnly: f.readOnly === true,
        hidden: f.hidden === true,
        description: f.description,
        example: f.example,
      });
    }
  }
  if (timestamps) fields.push(systemField('createdAt', 'datetime', 'createdAt'), systemField('updatedAt', 'datetime', 'updatedAt'));
  const uniques: UniqueConstraint[] = [
    ...fields.filter((f) => f.unique).map((f) => ({ name: `${table}_${f.column}_key`, fields: [f.name] })),
    ...(r.unique ?? []).map((list) => ({ name: `${table}_${list.map(toSnakeCase).join('_')}_key`, fields: list })),
  ];
  const indexes: IndexDefinition[] = [
    ...fields.filter((f) => f.indexed && !f.unique).map((f) => ({ name: `${table}_${f.column}_idx`, fields: [f.name] })),
    ...(r.indexes ?? [])
      .filter((ix) => !ix.unique)
      .map((ix) => ({ name: ix.name ?? `${table}_${ix.fields.map(toSnakeCase).join('_')}_idx`, fields: ix.fields })),
  ];
  for (const ix of r.indexes ?? []) {
    if (ix.unique) uniques.push({ name: ix.name ?? `${table}_${ix.fields.map(toSnakeCase).join('_')}_key`, fields: ix.fields });
  }
  for (const u of [...uniques, ...indexes]) {
    if (!SQL_NAME.test(u.name))
      problems.add(
        `resources.${name}`,
        `generated constraint name "${u.name}" is longer than PostgreSQL allows`,
        'give the index a shorter name, or the resource a shorter table',
      );
  }
  return {
    name,
    table,
    path: r.path ?? toKebabCase(name),
    idType,
    timestamps,
    fields,
    fieldsByName: new Map(fields.map((f) => [f.name, f])),
    relations,
    relationsByName: new Map(relations.map((rel) => [rel.name, rel])),
    uniques,
    indexes,
    description: r.description,
  };
}

function buildManyToMany(
  decl: ModelDeclaration,
  source: string,
  sourceTable: string,
  name: string,
  f: ManyToManyDeclaration,
  joinTables: Map<string, JoinTable>,
): Relation {
  const target = decl.resources[f.target] as ResourceDeclaration;
  const targetTable = target.table ?? toSnakeCase(f.target);
  const joinName = f.through ?? [sourceTable, targetTable].sort().join('_');
  const sourceColumn = `${sourceTable}_id`;
  const targetColumn = `${targetTable}_id`;
  if (!joinTables.has(joinName)) {
    const [left, right] = [
      { resource: source, column: sourceColumn },
      { resource: f.target, column: targetColumn },
    ].sort((a, b) => a.column.localeCompare(b.column)) as [JoinTable['left'], JoinTable['right']];
    joinTables.set(joinName, { name: joinName, left, right });
  }
  return { kind: 'manyToMany', name, target: f.target, joinTable: joinName, sourceColumn, targetColumn, description: f.description };
}

function checkCollisions(resources: readonly Resource[], joinTables: Map<string, JoinTable>, problems: ProblemList): void {
  const seen = new Map<string, string>();
  for (const r of resources) {
    for (const [kind, value] of [
      ['table', r.table],
      ['path', r.path],
    ] as const) {
      const key = `${kind}:${value}`;
      const other = seen.get(key);
      if (other) problems.add(`resources.${r.name}`, `${kind} "${value}" is also used by resource "${other}"`, `set a different ${kind} on one of them`);
      seen.set(key, r.name);
    }
    for (const col of r.fields) {
      const clash = r.fields.find((other) => other !== col && other.column === col.column);
      if (clash && col.name < clash.name) {
        problems.add(
          `resources.${r.name}.fields.${col.name}`,
          `fields "${col.name}" and "${clash.name}" map to the same column "${col.column}"`,
          'rename one of them',
        );
      }
    }
  }
  for (const jt of joinTables.values()) {
    const owner = seen.get(`table:${jt.name}`);
    if (owner)
      problems.add(
        `resources.${owner}`,
        `table "${jt.name}" is also the join table of a manyToMany relation`,
        'set through: "…" on the relation or rename the table',
      );
  }
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

function scalarConstraints(f: FieldDeclaration): Partial<ColumnField> {
  const out: Record<string, unknown> = {};
  for (const key of ['minLength', 'maxLength', 'pattern', 'format', 'min', 'max', 'precision', 'scale', 'values'] as const) {
    if (key in f && (f as unknown as Record<string, unknown>)[key] !== undefined) out[key] = (f as unknown as Record<string, unknown>)[key];
  }
  return out as Partial<ColumnField>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) for (const v of value.values()) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
