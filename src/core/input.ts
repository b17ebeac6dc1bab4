/**
 * Validation of record bodies, for every caller: the REST layer, GraphQL and code that calls the
 * operations directly all go through here, so none can write `id`, the timestamps or a readOnly
 * field, nor store a value the model does not allow. Validators are compiled once per resource.
 *
 * Order of checks, all problems collected: unknown and read-only fields (clearer than Ajv's
 * additionalProperties), then the JSON Schema of the model (Ajv; a string's length is checked before
 * its pattern or format, see guardPatterns), then what JSON Schema cannot say: bigint ranges on
 * strings of digits, decimals written as JSON numbers, lone surrogates in any string.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ColumnField, ManyToManyRelation, Model, Resource } from '../model/ir.js';
import { type FieldError, KilnError } from './errors.js';
import { ExactNumber } from './exact-number.js';
import type { Limits } from './limits.js';
import type { Row } from './query.js';
import { idSchema, inputSchema, type JsonSchema } from './schemas.js';
import { describeValue, fieldMessage, linkMessage } from './value-messages.js';
import { withArticle } from './words.js';

export type Variant = 'Create' | 'Update' | 'Replace';

/** A create/update body split into column values and manyToMany link lists. */
export interface WriteInput {
  readonly values: Row;
  readonly links: ReadonlyMap<string, readonly unknown[]>;
}

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** The compiled body checks of one resource. */
export class ResourceInput {
  readonly #resource: Resource;
  readonly #validators: Readonly<Record<Variant, ValidateFunction>>;
  readonly #readOnly: ReadonlySet<string>;
  readonly #writable: ReadonlySet<string>;
  readonly #links: ReadonlyMap<string, ManyToManyRelation>;
  /** The resource each manyToMany relation links to, for the messages about its id list. */
  readonly #linkTargets: ReadonlyMap<string, Resource>;
  readonly #textMaxLength: number;
  readonly #bigintRanges: readonly ColumnField[];
  /** bigint and decimal data fields: stored from their exact text. */
  readonly #textNumbers: ReadonlyMap<string, ColumnField>;

  constructor(ajv: Ajv, model: Model, resource: Resource, limits: Limits) {
    this.#resource = resource;
    const compile = (variant: Variant) => ajv.compile(guardPatterns(inputSchema(model, resource, variant, idSchema, limits)));
    this.#validators = { Create: compile('Create'), Update: compile('Update'), Replace: compile('Replace') };
    this.#readOnly = new Set(resource.fields.filter((f) => f.readOnly).map((f) => f.name));
    this.#links = new Map(resource.relations.flatMap((rel) => (rel.kind === 'manyToMany' ? [[rel.name, rel] as const] : [])));
    this.#linkTargets = new Map([...this.#links].map(([name, rel]) => [name, model.resourcesByName.get(rel.target) as Resource]));
    this.#textMaxLength = limits.textMaxLength;
    this.#writable = new Set([...resource.fields.filter((f) => !f.readOnly).map((f) => f.name), ...this.#links.keys()]);
    this.#bigintRanges = resource.fields.filter((f) => f.type === 'bigint' && (f.min !== undefined || f.max !== undefined));
    this.#textNumbers = new Map(
      resource.fields.filter((f) => f.role === 'data' && (f.type === 'bigint' || f.type === 'decimal')).map((f) => [f.name, f] as const),
    );
  }

  get links(): ReadonlyMap<string, ManyToManyRelation> {
    return this.#links;
  }

  /** Validates one body and splits it, or throws a 400 listing every problem. */
  parse(variant: Variant, body: unknown): WriteInput {
    const { errors, input } = this.check(variant, body, '');
    if (errors.length > 0) throw validationFailed(errors);
    return input as WriteInput;
  }

  /** The problems of one body (paths under `pointer`), and the body split when there are none. */
  check(variant: Variant, body: unknown, pointer: string): { errors: FieldError[]; input?: WriteInput } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { errors: [{ path: pointer || '/', code: 'type', message: 'the body must be a JSON object' }] };
    }
    const errors: FieldError[] = [];
    const record = this.#normalise(body as Row);
    for (const key of Object.keys(record)) {
      if (this.#readOnly.has(key)) errors.push({ path: `${pointer}/${key}`, code: 'readOnly', message: `"${key}" is set by the server and cannot be written` });
      else if (!this.#writable.has(key))
        errors.push({ path: `${pointer}/${key}`, code: 'unknown', message: `"${key}" is not ${withArticle(`${this.#resource.singular} field`)}` });
    }
    const validate = this.#validators[variant];
    if (!validate(record)) {
      for (const e of validate.errors ?? []) {
        if (e.keyword === 'additionalProperties' || e.keyword === 'if') continue; // reported above / by the `then` branch
        const error = this.#fieldError(e, pointer, record);
        if (error) errors.push(error);
      }
    }
    for (const field of this.#bigintRanges) {
      const value = record[field.name];
      if (typeof value === 'string') errors.push(...bigintRange(field, value, `${pointer}/${field.name}`));
    }
    findLoneSurrogates(record, pointer, errors);
    if (errors.length > 0) return { errors };
    return { errors, input: this.#split(record) };
  }

  /**
   * bigint and decimal fields keep the exact text the client sent: a JSON number becomes its shortest
   * exact decimal text (and is then checked like a string, so `2.0000000000001` cannot fit a scale of
   * 2 and be rounded by PostgreSQL), a long number the body parser kept as text stays that text.
   * Anywhere else a kept number is just a number, as JSON.parse would have made it.
   */
  #normalise(body: Row): Row {
    let out: Row | undefined;
    for (const key of Object.keys(body)) {
      const value = body[key];
      const textNumber = this.#textNumbers.get(key);
      let replaced: unknown = value;
      if (value instanceof ExactNumber) replaced = textNumber ? value.text : Number(value.text);
      else if (typeof value === 'number' && textNumber?.type === 'decimal') replaced = plainDecimal(value);
      else if (typeof value === 'object' && value !== null) replaced = withoutExactNumbers(value);
      if (replaced !== value) {
        out ??= { ...body };
        out[key] = replaced;
      }
    }
    return out ?? body;
  }

  #split(body: Row): WriteInput {
    const links = new Map<string, readonly unknown[]>();
    const values: Row = {};
    for (const key of Object.keys(body)) {
      const value = body[key];
      if (this.#links.has(key)) links.set(key, value as unknown[]);
      else values[key] = typeof value === 'number' && this.#textNumbers.has(key) ? String(value) : value;
    }
    return { values, links };
  }

  #fieldError(e: ErrorObject, pointer: string, record: Row): FieldError | undefined {
    if (e.keyword === 'required') {
      const name = (e.params as { missingProperty: string }).missingProperty;
      return { path: `${pointer}${e.instancePath}/${name}`, code: 'required', message: `"${name}" is required` };
    }
    if (e.keyword === 'minProperties') return { path: pointer || '/', code: 'empty', message: 'send at least one field to change' };
    const path = `${pointer}${e.instancePath}` || '/';
    const name = e.instancePath.split('/')[1] ?? '';
    const field = this.#resource.fieldsByName.get(name);
    const target = this.#linkTargets.get(name);
    if (target) return { path, code: e.keyword, message: linkMessage(target, e) };
    if (!field) return { path, code: e.keyword, message: e.message ?? 'is invalid' };
    // A value of the wrong type also fails `enum`, whose message lists the values: one error is enough.
    if (field.type === 'enum' && e.keyword === 'type') return undefined;
    // A value with a fixed textual form (a decimal, a date, a UUID…) is checked by length, then by pattern
    // or format; whichever fails, the client needs to hear what the form is, not a character count.
    const message = fieldMessage(field, e, record[name], this.#textMaxLength);
    if (e.keyword === 'maxLength' && field.type !== 'string' && field.type !== 'text' && field.type !== 'json') {
      return { path, code: field.type === 'decimal' || field.type === 'bigint' ? 'pattern' : 'format', message };
    }
    return { path, code: e.keyword, message };
  }
}

/** One Ajv instance for a model: formats and options shared by every resource's validators. */
export function compileInputs(model: Model, limits: Limits): ReadonlyMap<string, ResourceInput> {
  // multipleOfPrecision: decimal scales are checked with multipleOf, which binary floats cannot meet exactly.
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, multipleOfPrecision: 9 });
  addFormats(ajv);
  return new Map(model.resources.map((r) => [r.name, new ResourceInput(ajv, model, r, limits)]));
}

export function validationFailed(errors: readonly FieldError[]): KilnError {
  const first = errors[0];
  const detail = errors.length === 1 && first ? `${first.path}: ${first.message}` : `${errors.length} problems in the request body`;
  return new KilnError('KILN_VALIDATION_FAILED', { detail, errors });
}

/**
 * Moves `pattern` and `format` under `if: { maxLength }`: with allErrors, Ajv would otherwise run a
 * pattern on a string far longer than the field allows. A string over its length fails `maxLength`
 * alone; only a string of an allowed length meets the pattern.
 */
const NUMBER_FORMATS = new Set(['int32', 'int64', 'float', 'double']);

export function guardPatterns(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isObject(sub) ? guardPatterns(sub) : sub]));
    } else if (key === 'items' && isObject(value)) out[key] = guardPatterns(value);
    else out[key] = value;
  }
  // int32, int64, float and double say what `type` and the bounds already check; Ajv would report them twice.
  if (typeof out.format === 'string' && NUMBER_FORMATS.has(out.format)) delete out.format;
  if (typeof out.maxLength === 'number' && (out.pattern !== undefined || out.format !== undefined)) {
    const then: JsonSchema = {};
    for (const key of ['pattern', 'format'] as const) {
      if (out[key] !== undefined) {
        then[key] = out[key];
        delete out[key];
      }
    }
    out.if = { maxLength: out.maxLength };
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a promise.
    out.then = then;
  }
  return out;
}

/**
 * min/max of a bigint given as a string of digits: JSON Schema's minimum/maximum only apply to JSON
 * numbers, and the string form exists for values numbers cannot carry exactly.
 */
function bigintRange(field: ColumnField, value: string, path: string): FieldError[] {
  if (!/^-?\d{1,19}$/.test(value)) return []; // the pattern error is already reported
  const n = BigInt(value);
  if (field.min !== undefined && n < BigInt(Math.ceil(field.min))) return [{ path, code: 'minimum', message: `must be ${describeValue(field, 0)}` }];
  if (field.max !== undefined && n > BigInt(Math.floor(field.max))) return [{ path, code: 'maximum', message: `must be ${describeValue(field, 0)}` }];
  return [];
}

/** The exact decimal text of a JSON number, without exponent notation (1e-7 → "0.0000001"). */
export function plainDecimal(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([-+]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function withoutExactNumbers(value: object): unknown {
  if (value instanceof ExactNumber) return Number(value.text);
  if (Array.isArray(value))
    return value.some(hasExactNumber) ? value.map((v) => (isObject(v) || Array.isArray(v) || v instanceof ExactNumber ? withoutExactNumbers(v) : v)) : value;
  if (!hasExactNumber(value)) return value;
  const out: Row = {};
  for (const [k, v] of Object.entries(value)) out[k] = typeof v === 'object' && v !== null ? withoutExactNumbers(v) : v;
  return out;
}

function hasExactNumber(value: unknown): boolean {
  if (value instanceof ExactNumber) return true;
  if (Array.isArray(value)) return value.some(hasExactNumber);
  if (isObject(value)) return Object.values(value).some(hasExactNumber);
  return false;
}

/** Strings must be well-formed Unicode: PostgreSQL would store a lone surrogate as U+FFFD, silently. */
function findLoneSurrogates(value: unknown, path: string, errors: FieldError[]): void {
  if (typeof value === 'string') {
    if (!value.isWellFormed()) {
      errors.push({ path: path || '/', code: 'encoding', message: 'holds a lone surrogate (an unpaired \\uD800–\\uDFFF escape); send well-formed Unicode' });
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) findLoneSurrogates(value[i], `${path}/${i}`, errors);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (!key.isWellFormed()) errors.push({ path: `${path}/${key}`, code: 'encoding', message: 'this key holds a lone surrogate; send well-formed Unicode' });
      findLoneSurrogates(value[key], `${path}/${key}`, errors);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ExactNumber);
}
