import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { inputFieldSchema, isComputedDefault, type JsonSchema, outputFieldSchema, type SchemaLimits } from '../core/schemas.js';
import type { ColumnField, Resource } from '../model/ir.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: false }));
const UUID_EXAMPLE = '3f0e3a4c-8d6b-4c1e-9a51-0f2b6c1d9e77';

/**
 * Whether `value` is valid for the field both as clients write it and as they read it. Every example
 * in the document passes this check, so the document never shows a value the API would refuse.
 */
export function fitsField(field: ColumnField, value: unknown, limits: SchemaLimits): boolean {
  return validator(outputFieldSchema(field, limits))(value) && (field.readOnly || validator(inputFieldSchema(field, limits))(value));
}

/** Compiled once per distinct field schema: Ajv's own cache is keyed by object, and these are built afresh. */
const validators = new Map<string, ValidateFunction>();
function validator(schema: JsonSchema): ValidateFunction {
  const { examples: _examples, description: _description, ...bare } = schema;
  const key = JSON.stringify(bare);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(bare);
    validators.set(key, validate);
  }
  return validate;
}

/** An example value that satisfies the field's schema, or undefined when none can be made safely. */
export function exampleValue(field: ColumnField, limits: SchemaLimits): unknown {
  if (field.example !== undefined && fitsField(field, field.example, limits)) return field.example;
  const value = generated(field);
  return value !== undefined && fitsField(field, value, limits) ? value : undefined;
}

function generated(field: ColumnField): unknown {
  if (field.role === 'id' || field.role === 'foreignKey') return field.type === 'uuid' ? UUID_EXAMPLE : 1;
  if (field.role === 'createdAt' || field.role === 'updatedAt') return '2026-01-15T09:30:00.000Z';
  if (field.default !== undefined && field.default !== null && !isComputedDefault(field)) return field.default;
  switch (field.type) {
    case 'string':
    case 'text': {
      if (field.pattern) return undefined;
      if (field.format === 'email') return 'ada@example.com';
      if (field.format === 'url') return 'https://example.com/';
      if (field.format === 'uuid') return UUID_EXAMPLE;
      let text = `Example ${field.name}`;
      if (field.minLength !== undefined && text.length < field.minLength) text = text.padEnd(field.minLength, '.');
      if (field.maxLength !== undefined) text = text.slice(0, field.maxLength);
      return text;
    }
    case 'integer':
    case 'float':
      return Math.max(field.min ?? 0, Math.min(field.max ?? 42, 42));
    case 'bigint':
      return '9007199254740993';
    case 'decimal':
      return field.scale ? `12.${'5'.padEnd(field.scale, '0')}` : '12';
    case 'boolean':
      return true;
    case 'date':
      return '2026-01-15';
    case 'datetime':
      return '2026-01-15T09:30:00.000Z';
    case 'enum':
      return field.values?.[0];
    case 'uuid':
      return UUID_EXAMPLE;
    case 'json':
      return { any: 'JSON' };
  }
}

/** A record as read, or written (`write`), when every field it shows can have an example. */
export function exampleRecord(resource: Resource, mode: 'read' | 'write', limits: SchemaLimits): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const field of resource.fields) {
    if (mode === 'read' ? field.hidden : field.readOnly || (!field.required && field.role !== 'foreignKey')) continue;
    const value = exampleValue(field, limits);
    if (value === undefined) return undefined;
    out[field.name] = value;
  }
  // An update body sets at least one field: with no field required, the example sets the first writable one.
  if (mode === 'write' && Object.keys(out).length === 0) {
    const field = resource.fields.find((f) => !f.readOnly && exampleValue(f, limits) !== undefined);
    return field ? { [field.name]: exampleValue(field, limits) } : undefined;
  }
  return out;
}
