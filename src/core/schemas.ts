/**
 * JSON Schemas derived from the model. One derivation serves input validation (Ajv), output
 * serialisation (fast-json-stringify) and the OpenAPI document, so the three cannot disagree.
 */
import type { ColumnField, Model, Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';

export type JsonSchema = Record<string, unknown>;

const INT32 = { minimum: -2147483648, maximum: 2147483647 };
export const DECIMAL_PATTERN = '^-?\\d+(\\.\\d+)?$';
export const BIGINT_PATTERN = '^-?\\d{1,19}$';

/** Schema names used as `$ref` targets (OpenAPI components and fast-json-stringify externals). */
export function schemaName(resource: Resource, variant: '' | 'Create' | 'Update' | 'Replace' = ''): string {
  return `${toPascalCase(resource.name)}${variant}`;
}

function nullable(schema: JsonSchema, field: ColumnField): JsonSchema {
  if (!field.nullable) return schema;
  if (Array.isArray(schema.enum)) return { ...schema, type: [schema.type, 'null'], enum: [...schema.enum, null] };
  if (schema.type) return { ...schema, type: [schema.type, 'null'].flat() };
  return schema;
}

function describe(schema: JsonSchema, field: ColumnField): JsonSchema {
  const out = { ...schema };
  if (field.description) out.description = field.description;
  if (field.example !== undefined) out.examples = [field.example];
  return out;
}

/** The value schema of a field as clients read it. */
export function outputFieldSchema(field: ColumnField): JsonSchema {
  return describe(nullable(valueSchema(field, 'output'), field), field);
}

/** The value schema of a field as clients write it: also accepts numbers for bigint and decimal. */
export function inputFieldSchema(field: ColumnField): JsonSchema {
  const schema = describe(nullable(valueSchema(field, 'input'), field), field);
  if (field.readOnly) schema.readOnly = true;
  if (field.hidden) schema.writeOnly = true;
  if (field.hasDefault && field.default !== undefined && field.default !== null && field.role === 'data' && !isComputedDefault(field)) {
    schema.default = field.default;
  }
  return schema;
}

/** `now` (datetime) and `random` (uuid) name values the database computes on insert, not literal values. */
export function isComputedDefault(field: ColumnField): boolean {
  return (field.type === 'datetime' && field.default === 'now') || (field.type === 'uuid' && field.default === 'random');
}

function valueSchema(field: ColumnField, direction: 'input' | 'output'): JsonSchema {
  if (field.role === 'id' || field.role === 'foreignKey') {
    return field.type === 'uuid' ? { type: 'string', format: 'uuid' } : { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
  }
  switch (field.type) {
    case 'string':
    case 'text': {
      const s: JsonSchema = { type: 'string' };
      if (direction === 'input') {
        if (field.minLength !== undefined) s.minLength = field.minLength;
        if (field.maxLength !== undefined) s.maxLength = field.maxLength;
        if (field.pattern !== undefined) s.pattern = field.pattern;
      } else if (field.maxLength !== undefined) s.maxLength = field.maxLength;
      if (field.format) s.format = field.format === 'url' ? 'uri' : field.format;
      return s;
    }
    case 'integer':
      return { type: 'integer', minimum: field.min ?? INT32.minimum, maximum: field.max ?? INT32.maximum };
    case 'float': {
      const s: JsonSchema = { type: 'number' };
      if (field.min !== undefined) s.minimum = field.min;
      if (field.max !== undefined) s.maximum = field.max;
      return s;
    }
    case 'bigint':
      // A JSON integer beyond 2^53 has already lost digits when parsed: larger values must come as strings.
      return direction === 'input'
        ? {
            type: ['string', 'integer'],
            pattern: BIGINT_PATTERN,
            minimum: Math.max(field.min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
            maximum: Math.min(field.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
            description: 'A 64-bit integer, as a string of digits or a JSON integer.',
          }
        : { type: 'string', pattern: BIGINT_PATTERN };
    case 'decimal':
      return direction === 'input' ? decimalInput(field) : { type: 'string', pattern: DECIMAL_PATTERN };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'enum':
      return { type: 'string', enum: [...(field.values ?? [])] };
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'json':
      // `{}` would also accept null, which a NOT NULL column then refuses with a database error.
      return direction === 'input' && !field.nullable ? { type: ['object', 'array', 'string', 'number', 'boolean'] } : {};
  }
}

/**
 * With precision and scale, a decimal must fit them exactly: PostgreSQL would otherwise round extra
 * fraction digits silently, and refuse too many integer digits without naming the field. Strings are
 * checked by pattern, numbers by range and multipleOf.
 */
function decimalInput(field: ColumnField): JsonSchema {
  if (field.precision === undefined) return { type: ['string', 'number'], pattern: DECIMAL_PATTERN };
  const scale = field.scale ?? 0;
  const whole = field.precision - scale;
  const integerPart = whole > 0 ? `\\d{1,${whole}}` : '0';
  const fraction = scale > 0 ? `(\\.\\d{1,${scale}})?` : '';
  const limit = 10 ** whole;
  return {
    type: ['string', 'number'],
    pattern: `^-?${integerPart}${fraction}$`,
    exclusiveMinimum: -limit,
    exclusiveMaximum: limit,
    multipleOf: 10 ** -scale,
    description: `A decimal with at most ${whole} digits before the point and ${scale} after, as a string or a JSON number.`,
  };
}

export type RefStyle = (resource: Resource) => string;

/**
 * A resource as returned to clients: readable fields, plus every relation as an optional property
 * that appears only when included.
 */
export function outputSchema(model: Model, resource: Resource, ref: RefStyle): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of resource.fields) if (!field.hidden) properties[field.name] = outputFieldSchema(field);
  for (const rel of resource.relations) {
    const target = model.resourcesByName.get(rel.target) as Resource;
    const description = rel.description ?? `Included with \`include=${rel.name}\`.`;
    properties[rel.name] =
      rel.kind === 'belongsTo'
        ? { description, anyOf: [{ $ref: ref(target) }, { type: 'null' }] }
        : { description, type: 'array', items: { $ref: ref(target) } };
  }
  const schema: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (resource.description) schema.description = resource.description;
  return schema;
}

/** A request body for create (`Create`), partial update (`Update`) or full replace (`Replace`). */
export function inputSchema(model: Model, resource: Resource, variant: 'Create' | 'Update' | 'Replace', idOf: (r: Resource) => JsonSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const field of resource.fields) {
    if (field.readOnly) continue;
    properties[field.name] = inputFieldSchema(field);
    if (variant !== 'Update' && field.required) required.push(field.name);
  }
  for (const rel of resource.relations) {
    if (rel.kind !== 'manyToMany') continue;
    const target = model.resourcesByName.get(rel.target) as Resource;
    properties[rel.name] = {
      type: 'array',
      items: idOf(target),
      uniqueItems: true,
      maxItems: 1000,
      description: `Ids of the ${rel.target} to link; replaces the current links.`,
    };
  }
  const schema: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) schema.required = required;
  if (variant === 'Update') schema.minProperties = 1;
  return schema;
}

export function idSchema(resource: Resource): JsonSchema {
  const id = resource.fieldsByName.get('id') as ColumnField;
  return valueSchema(id, 'input');
}
