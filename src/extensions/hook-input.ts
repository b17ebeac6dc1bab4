/**
 * What a before-hook hands back goes through the field validators again: the fields a client may
 * write through the resource's own validators (src/core/input.ts), and the readOnly fields (which
 * only the server, here the hook, may set) through validators of their own, compiled the first time a
 * hook of the resource runs. A value that does not fit is the hook's fault, not the client's: the
 * caller hears 500 KILN_INTERNAL and the log says which hook and which field.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { CompiledResource } from '../core/compiled-model.js';
import type { FieldError } from '../core/errors.js';
import { guardPatterns, plainDecimal, type Variant, type WriteInput } from '../core/input.js';
import type { Limits } from '../core/limits.js';
import type { Row } from '../core/query.js';
import { inputFieldSchema } from '../core/schemas.js';
import type { ColumnField } from '../model/ir.js';
import { isPlainObject } from '../model/plain-data.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** A hook's output that does not fit the model; `problems` name the fields. */
export class HookOutputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`returned an input that does not fit the model: ${problems.join('; ')}`);
    this.name = 'HookOutputError';
  }
}

/** The server-only fields of one resource: readOnly data and key fields, each with its compiled check. */
type ServerFields = ReadonlyMap<string, { readonly field: ColumnField; readonly validate: ValidateFunction }>;

export class HookInputs {
  readonly #ajv = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, multipleOfPrecision: 9 }));
  readonly #server = new Map<string, ServerFields>();

  /** The input a hook saw, as the plain object it may change: values and link lists, plus `extra` (the id). */
  static view(input: WriteInput, extra?: Row): Row {
    const view: Row = { ...extra, ...input.values };
    for (const [name, ids] of input.links) view[name] = [...ids];
    return view;
  }

  /**
   * Checks a hook's output as a write of `variant` and splits it like a client body. `id` is dropped
   * (an update's hook sees it; changing it is refused), readOnly fields are checked on their own.
   */
  parse(r: CompiledResource, variant: Variant, output: unknown, limits: Limits, id?: unknown): WriteInput {
    if (!isPlainObject(output)) throw new HookOutputError(['expected an object of field values']);
    const client: Row = {};
    const server: Row = {};
    const problems: string[] = [];
    const fields = this.#serverFields(r, limits);
    for (const [key, value] of Object.entries(output)) {
      if (key === 'id') {
        if (id === undefined || String(value) !== String(id)) problems.push('/id: the id is set by the database and cannot be changed');
      } else if (fields.has(key)) server[key] = value;
      else if (r.resource.fieldsByName.get(key)?.readOnly) problems.push(`/${key}: set by the database, not by a hook`);
      else client[key] = value;
    }
    const onlyServer = variant === 'Update' && Object.keys(client).length === 0 && Object.keys(server).length > 0;
    const checked = onlyServer ? { errors: [] as FieldError[], input: { values: {}, links: new Map() } } : r.input.check(variant, client, '');
    problems.push(...checked.errors.map((e) => `${e.path}: ${e.message}`));
    const values: Row = {};
    for (const [key, value] of Object.entries(server)) {
      const { field, validate } = fields.get(key) as { field: ColumnField; validate: ValidateFunction };
      if (!validate(value)) problems.push(...(validate.errors ?? []).map((e) => `/${key}${e.instancePath}: ${e.message ?? 'is invalid'}`));
      else values[key] = typeof value === 'number' && (field.type === 'bigint' || field.type === 'decimal') ? plainDecimal(value) : value;
    }
    if (problems.length > 0 || !checked.input) throw new HookOutputError(problems);
    return { values: { ...checked.input.values, ...values }, links: checked.input.links };
  }

  #serverFields(r: CompiledResource, limits: Limits): ServerFields {
    let fields = this.#server.get(r.resource.name);
    if (!fields) {
      const entries = r.resource.fields
        .filter((f) => f.readOnly && (f.role === 'data' || f.role === 'foreignKey'))
        .map((field) => [field.name, { field, validate: this.#ajv.compile(guardPatterns(inputFieldSchema(field, limits))) }] as const);
      fields = new Map(entries);
      this.#server.set(r.resource.name, fields);
    }
    return fields;
  }
}
