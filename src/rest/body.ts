import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type FieldError, KilnError } from '../core/errors.js';
import type { WriteInput } from '../core/operations.js';
import type { Row } from '../core/query.js';
import { idSchema, inputSchema } from '../core/schemas.js';
import type { ColumnField, Model, Resource } from '../model/ir.js';

type Variant = 'Create' | 'Update' | 'Replace';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Request-body validators for every resource, compiled once at start-up. A body is checked for
 * unknown and read-only fields first (clearer messages than `additionalProperties`), then by Ajv with
 * every error collected.
 */
export class BodyValidator {
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #readOnly = new Map<string, ReadonlySet<string>>();
  readonly #linkNames = new Map<string, ReadonlySet<string>>();
  readonly #writable = new Map<string, ReadonlySet<string>>();
  readonly #bigintRanges = new Map<string, readonly ColumnField[]>();

  constructor(model: Model) {
    // multipleOfPrecision: decimal scales are checked with multipleOf, which binary floats cannot meet exactly.
    const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, multipleOfPrecision: 9 });
    addFormats(ajv);
    for (const r of model.resources) {
      for (const variant of ['Create', 'Update', 'Replace'] as const) {
        this.#validators.set(`${r.name}:${variant}`, ajv.compile(inputSchema(model, r, variant, idSchema)));
      }
      this.#readOnly.set(r.name, new Set(r.fields.filter((f) => f.readOnly).map((f) => f.name)));
      const links = r.relations.filter((rel) => rel.kind === 'manyToMany').map((rel) => rel.name);
      this.#linkNames.set(r.name, new Set(links));
      this.#writable.set(r.name, new Set([...r.fields.filter((f) => !f.readOnly).map((f) => f.name), ...links]));
      this.#bigintRanges.set(
        r.name,
        r.fields.filter((f) => f.type === 'bigint' && (f.min !== undefined || f.max !== undefined)),
      );
    }
  }

  /** Validates one body and splits it into column values and link lists, or throws a 400 listing every problem. */
  parse(resource: Resource, variant: Variant, body: unknown, pointer = ''): WriteInput {
    const errors = this.check(resource, variant, body, pointer);
    if (errors.length > 0) throw validationFailed(errors);
    return this.split(resource, body as Row);
  }

  check(resource: Resource, variant: Variant, body: unknown, pointer = ''): FieldError[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return [{ path: pointer || '/', code: 'type', message: 'the body must be a JSON object' }];
    }
    const errors: FieldError[] = [];
    const readOnly = this.#readOnly.get(resource.name) as ReadonlySet<string>;
    const writable = this.#writable.get(resource.name) as ReadonlySet<string>;
    for (const key of Object.keys(body)) {
      if (readOnly.has(key)) errors.push({ path: `${pointer}/${key}`, code: 'readOnly', message: `"${key}" is set by the server and cannot be written` });
      else if (!writable.has(key)) errors.push({ path: `${pointer}/${key}`, code: 'unknown', message: `"${key}" is not a field of ${resource.name}` });
    }
    const validate = this.#validators.get(`${resource.name}:${variant}`) as ValidateFunction;
    if (!validate(body)) {
      for (const e of validate.errors ?? []) {
        if (e.keyword === 'additionalProperties') continue; // reported above, with a better message
        errors.push(toFieldError(e, pointer));
      }
    }
    for (const field of this.#bigintRanges.get(resource.name) ?? []) {
      const value = (body as Row)[field.name];
      if (typeof value === 'string') errors.push(...bigintRange(field, value, `${pointer}/${field.name}`));
    }
    return errors;
  }

  split(resource: Resource, body: Row): WriteInput {
    const links = new Map<string, readonly unknown[]>();
    const values: Row = {};
    const linkNames = this.#linkNames.get(resource.name) as ReadonlySet<string>;
    for (const [key, value] of Object.entries(body)) {
      if (linkNames.has(key)) links.set(key, value as unknown[]);
      else values[key] = typeof value === 'number' && isTextNumber(resource, key) ? String(value) : value;
    }
    return { values, links };
  }
}

/**
 * min/max of a bigint given as a string of digits: JSON Schema's minimum/maximum only apply to JSON
 * numbers (see schemas.ts), and the string form exists for values numbers cannot carry exactly.
 */
function bigintRange(field: ColumnField, value: string, path: string): FieldError[] {
  if (!/^-?\d{1,19}$/.test(value)) return []; // the pattern error is already reported
  const n = BigInt(value);
  if (field.min !== undefined && n < BigInt(Math.ceil(field.min))) return [{ path, code: 'minimum', message: `must be >= ${field.min}` }];
  if (field.max !== undefined && n > BigInt(Math.floor(field.max))) return [{ path, code: 'maximum', message: `must be <= ${field.max}` }];
  return [];
}

/** bigint and decimal accept JSON numbers but are stored from their exact text. */
function isTextNumber(resource: Resource, key: string): boolean {
  const field = resource.fieldsByName.get(key);
  return field?.role === 'data' && (field.type === 'bigint' || field.type === 'decimal');
}

function toFieldError(e: ErrorObject, pointer: string): FieldError {
  if (e.keyword === 'required') {
    const name = (e.params as { missingProperty: string }).missingProperty;
    return { path: `${pointer}${e.instancePath}/${name}`, code: 'required', message: `"${name}" is required` };
  }
  if (e.keyword === 'minProperties') return { path: pointer || '/', code: 'empty', message: 'send at least one field to change' };
  return { path: `${pointer}${e.instancePath}` || '/', code: e.keyword, message: e.message ?? 'is invalid' };
}

export function validationFailed(errors: readonly FieldError[]): KilnError {
  const first = errors[0];
  const detail = errors.length === 1 && first ? `${first.path}: ${first.message}` : `${errors.length} problems in the request body`;
  return new KilnError('KILN_VALIDATION_FAILED', { detail, errors });
}
