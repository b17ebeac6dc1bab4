/**
 * JSON Schemas derived from the model. One derivation serves input validation (Ajv), output
 * serialisation (fast-json-stringify) and the OpenAPI document, so the three cannot disagree.
 */
import { SETTINGS } from '../config/settings.js';
import type { ColumnField, Model, Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import { FIXED_LIMITS, filterValueMaxLength, type Limits } from './limits.js';

export type JsonSchema = Record<string, unknown>;

/**
 * The configured bounds a schema states. Every string gets a maxLength and every array a maxItems, so
 * Ajv enforces on bodies exactly what the OpenAPI document promises.
 */
export type SchemaLimits = Pick<Limits, 'textMaxLength' | 'includeLimit'>;

/** The settings' defaults, for callers that do not pass the configured values. */
export const DEFAULT_SCHEMA_LIMITS: SchemaLimits = Object.freeze({
  textMaxLength: SETTINGS.textMaxLength.default,
  includeLimit: SETTINGS.includeLimit.default,
});

const INT32 = { format: 'int32', minimum: -2147483648, maximum: 2147483647 } as const;
/** Ids are bigint columns, read and written as JSON integers: exact up to 2^53 - 1. */
const ID_INTEGER = { type: 'integer', format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
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
export function outputFieldSchema(field: ColumnField, limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS): JsonSchema {
  return describe(nullable(valueSchema(field, 'output', limits), field), field);
}

/** The value schema of a field as clients write it: also accepts numbers for bigint and decimal. */
export function inputFieldSchema(field: ColumnField, limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS): JsonSchema {
  const schema = describe(nullable(valueSchema(field, 'input', limits), field), field);
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

function valueSchema(field: ColumnField, direction: 'input' | 'output', limits: SchemaLimits): JsonSchema {
  // A value written as a string is as long as its longest query-string form: one bound for both (core/limits.ts).
  const maxLength = filterValueMaxLength(field, limits.textMaxLength);
  if (field.role === 'id' || field.role === 'foreignKey') {
    return field.type === 'uuid' ? { type: 'string', format: 'uuid', maxLength } : { ...ID_INTEGER };
  }
  switch (field.type) {
    case 'string':
    case 'text': {
      const s: JsonSchema = { type: 'string' };
      if (direction === 'input' && field.minLength !== undefined) s.minLength = field.minLength;
      // Length before pattern: the validator checks maxLength first, so no pattern runs on an over-long value.
      s.maxLength = maxLength;
      if (direction === 'input' && field.pattern !== undefined) s.pattern = field.pattern;
      if (field.format) s.format = field.format === 'url' ? 'uri' : field.format;
      return s;
    }
    case 'integer':
      return { type: 'integer', format: INT32.format, minimum: field.min ?? INT32.minimum, maximum: field.max ?? INT32.maximum };
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
            format: 'int64',
            maxLength,
            pattern: BIGINT_PATTERN,
            minimum: Math.max(field.min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
            maximum: Math.min(field.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
            description: 'A 64-bit integer, as a string of digits or a JSON integer.',
          }
        : { type: 'string', maxLength, pattern: BIGINT_PATTERN };
    case 'decimal':
      return direction === 'input' ? decimalInput(field, maxLength) : { type: 'string', maxLength, pattern: DECIMAL_PATTERN };
    case 'boolean':
    case 'date':
    case 'datetime':
    case 'enum':
    case 'uuid':
      return fixedFormatSchema(field.type, field.values, maxLength);
    case 'json':
      return direction === 'input' ? jsonInput(limits) : {};
  }
}

/**
 * Any JSON value (null only when nullable, added by `nullable`); a top-level string is bounded like
 * text and a top-level array by FIXED_LIMITS.jsonItems. `{}` would also accept null, which a NOT NULL
 * column then refuses with a database error, so the types are listed.
 */
/**
 * The types whose values look the same everywhere (a body, a response, a filter in the query string):
 * one schema, so the three cannot drift apart.
 */
export function fixedFormatSchema(
  type: 'boolean' | 'date' | 'datetime' | 'enum' | 'uuid',
  values: readonly string[] | undefined,
  maxLength: number,
): JsonSchema {
  switch (type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date', maxLength };
    case 'datetime':
      return { type: 'string', format: 'date-time', maxLength };
    case 'enum':
      return { type: 'string', enum: [...(values ?? [])] };
    case 'uuid':
      return { type: 'string', format: 'uuid', maxLength };
  }
}

function jsonInput(limits: SchemaLimits): JsonSchema {
  return { type: ['object', 'array', 'string', 'number', 'boolean'], maxLength: limits.textMaxLength, items: {}, maxItems: FIXED_LIMITS.jsonItems };
}

/**
 * With precision and scale, a decimal must fit them exactly: PostgreSQL would otherwise round extra
 * fraction digits silently, and refuse too many integer digits without naming the field. Strings are
 * checked by pattern, numbers by range and multipleOf.
 */
function decimalInput(field: ColumnField, maxLength: number): JsonSchema {
  if (field.precision === undefined) return { type: ['string', 'number'], maxLength, pattern: DECIMAL_PATTERN };
  const scale = field.scale ?? 0;
  const whole = field.precision - scale;
  const integerPart = whole > 0 ? `\\d{1,${whole}}` : '0';
  const fraction = scale > 0 ? `(\\.\\d{1,${scale}})?` : '';
  const limit = 10 ** whole;
  return {
    type: ['string', 'number'],
    maxLength,
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
 * that appears only when included. A to-many include embeds at most `includeLimit` records per parent;
 * `_truncated` names the relations it cut (`_` cannot start a field name, so it never clashes).
 */
export function outputSchema(model: Model, resource: Resource, ref: RefStyle, limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of resource.fields) if (!field.hidden) properties[field.name] = outputFieldSchema(field, limits);
  const toMany: string[] = [];
  for (const rel of resource.relations) {
    const target = model.resourcesByName.get(rel.target) as Resource;
    const description = rel.description ?? `Included with \`include=${rel.name}\`.`;
    if (rel.kind === 'belongsTo') {
      properties[rel.name] = { description, anyOf: [{ $ref: ref(target) }, { type: 'null' }] };
      continue;
    }
    toMany.push(rel.name);
    properties[rel.name] = {
      description: `${description} The first ${limits.includeLimit} at most; \`_truncated\` lists this relation when there are more.`,
      type: 'array',
      items: { $ref: ref(target) },
      maxItems: limits.includeLimit,
    };
  }
  if (toMany.length > 0) properties._truncated = truncatedSchema(toMany);
  const schema: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (resource.description) schema.description = resource.description;
  return schema;
}

function truncatedSchema(relations: readonly string[]): JsonSchema {
  return {
    type: 'array',
    items: { type: 'string', enum: [...relations] },
    uniqueItems: true,
    maxItems: relations.length,
    description:
      'Relations whose included list was cut at the include limit (KILN_INCLUDE_LIMIT per parent): the array holds the first records only; list the related resource with a filter to see the rest.',
  };
}

/** A request body for create (`Create`), partial update (`Update`) or full replace (`Replace`). */
export function inputSchema(
  model: Model,
  resource: Resource,
  variant: 'Create' | 'Update' | 'Replace',
  idOf: (r: Resource) => JsonSchema,
  limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS,
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const field of resource.fields) {
    if (field.readOnly) continue;
    properties[field.name] = inputFieldSchema(field, limits);
    if (variant !== 'Update' && field.required) required.push(field.name);
  }
  for (const rel of resource.relations) {
    if (rel.kind !== 'manyToMany') continue;
    const target = model.resourcesByName.get(rel.target) as Resource;
    properties[rel.name] = {
      type: 'array',
      items: idOf(target),
      uniqueItems: true,
      maxItems: FIXED_LIMITS.linkIds,
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
  // An id is never text, so the text maximum plays no part.
  return valueSchema(id, 'input', DEFAULT_SCHEMA_LIMITS);
}

/** `page` of a list response. The serialiser ignores the bounds; the document states them. */
export function pageSchema(pageMaxLimit: number): JsonSchema {
  return {
    type: 'object',
    properties: {
      limit: { type: 'integer', format: 'int32', minimum: 1, maximum: pageMaxLimit, description: 'Rows asked for.' },
      hasMore: { type: 'boolean', description: 'Whether another page follows.' },
      nextCursor: {
        type: ['string', 'null'],
        maxLength: FIXED_LIMITS.cursorLength,
        description: 'Pass as `cursor` to get the next page; null on the last page.',
      },
      total: { type: 'integer', format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Rows matching the filters, with `count=true`.' },
    },
    required: ['limit', 'hasMore', 'nextCursor'],
    additionalProperties: false,
  };
}
