/**
 * Seed files: records loaded into an empty database on the first run (`kiln serve --seed FILE`).
 * A seed is checked by the validators of request bodies (input.ts) before anything is written, and
 * every problem is reported at once, named by file, resource, record and field. A seed is the
 * operator's own data, so unlike a request it may set what the server sets (ids, so records can point
 * at each other; timestamps; readOnly fields); those values are still type-checked.
 */
import { readFileSync } from 'node:fs';
import { hashSeedPasswords, splitSeedAccount } from '../auth/seed-accounts.js';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import type { Database } from '../db/database.js';
import { FrozenMap } from '../model/frozen-map.js';
import type { Model, Resource } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import { ident } from '../sql/fragments.js';
import { compileInsert, compileLink } from '../sql/write.js';
import { DatabaseErrorMapper } from './database-errors.js';
import type { FieldError } from './errors.js';
import { compileInputs, type WriteInput } from './input.js';
import type { Limits } from './limits.js';
import { TRUE } from './predicate.js';
import { parseJsonFile } from './seed-json.js';

/** One checked record, with its place in the file (`posts[2]`) for messages. */
export interface SeedRecord extends WriteInput {
  readonly resource: Resource;
  readonly where: string;
  /** An account's plain password (src/auth/seed-accounts.ts), hashed when the seed is loaded. */
  readonly password?: string;
}

/** A seed file, read and checked: nothing in it can fail validation any more. */
export interface Seed {
  readonly file: string;
  readonly records: readonly SeedRecord[];
}

/** What happened to the seed on start: loaded into an empty database, or skipped as it held data. */
export type SeedOutcome = { readonly status: 'loaded'; readonly records: number } | { readonly status: 'skipped' };

/** Problems listed in one message; the rest are counted. */
const MAX_LISTED = 20;

/** Reads and checks a seed file; throws a StartupError naming every problem found. */
export function loadSeed(file: string, model: Model, limits: Limits): Seed {
  const data = parseJsonFile(file, readSeedFile(file));
  const problems: string[] = [];
  const records = checkSeed(model, limits, data, problems);
  if (problems.length === 0) return { file, records };
  if (problems.length === 1) throw new StartupError(`${file}: ${problems[0]}`);
  const listed = problems.slice(0, MAX_LISTED).map((p) => `\n  - ${p}`);
  const more = problems.length > MAX_LISTED ? `\n  … and ${problems.length - MAX_LISTED} more` : '';
  throw new StartupError(`${file} has ${problems.length} problems; nothing was loaded:${listed.join('')}${more}`);
}

function readSeedFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StartupError(`the seed file ${file} does not exist; check the --seed path`);
    if (code === 'EISDIR') throw new StartupError(`the seed file ${file} is a folder; give --seed the path of a JSON file`);
    throw new StartupError(`cannot read the seed file ${file}: ${(error as Error).message}`, { cause: error });
  }
}

const SHAPE = 'the seed must be a JSON object of resource names to lists of records, e.g. {"users": [{"id": 1, "email": "ada@example.com"}]}';

function checkSeed(model: Model, limits: Limits, data: unknown, problems: string[]): SeedRecord[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problems.push(SHAPE);
    return [];
  }
  const inputs = compileInputs(seedView(model), limits);
  const records: SeedRecord[] = [];
  for (const [name, list] of Object.entries(data)) {
    const input = inputs.get(name);
    if (!input) {
      problems.push(`"${name}" is not a resource of the model (its resources: ${model.resources.map((r) => r.name).join(', ')})`);
      continue;
    }
    if (!Array.isArray(list)) {
      problems.push(`${name}: must be a list of records, e.g. "${name}": [{ … }]`);
      continue;
    }
    const resource = getResource(model, name);
    list.forEach((record: unknown, i) => {
      const where = `${name}[${i}]`;
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        problems.push(`${where}: must be an object of field values`);
        return;
      }
      const account = splitSeedAccount(model, name, record as Record<string, unknown>);
      for (const problem of account.problems) problems.push(`${where}${problem}`);
      const checked = input.check('Create', account.fields, '');
      for (const e of checked.errors) problems.push(`${where}${fieldPath(e)}: ${e.message}`);
      if (checked.input) records.push({ ...checked.input, resource, where, ...(account.password !== undefined && { password: account.password }) });
    });
  }
  return records;
}

/**
 * The model as a seed may write it: the fields the server sets (id, timestamps, readOnly fields)
 * become optional writable fields, checked by the same compiled validators as every other field.
 */
function seedView(model: Model): Model {
  const resources = model.resources.map((r): Resource => {
    const fields = r.fields.map((f) => (f.readOnly ? { ...f, readOnly: false, required: false } : f));
    return { ...r, fields, fieldsByName: new FrozenMap(fields.map((f) => [f.name, f])) };
  });
  return { ...model, resources, resourcesByName: new FrozenMap(resources.map((r) => [r.name, r])) };
}

/** A field error's JSON pointer as a path after the record: `/tags/0` → `.tags[0]`. */
function fieldPath(error: FieldError): string {
  if (error.path === '/' || error.path === '') return '';
  return error.path
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
}

/**
 * Loads the seed when every table of the model is empty (the first run), in one transaction: a record
 * the database refuses (a duplicate, a reference to a record that does not exist) loads nothing.
 * Identity sequences are moved past the ids the seed gave.
 */
export async function seedIfEmpty(
  db: Database,
  model: Model,
  seed: Seed,
  passwordCosts?: Pick<Settings, 'passwordMemoryKib' | 'passwordTimeCost'>,
): Promise<SeedOutcome> {
  for (const r of model.resources) {
    const [row] = await db.query(`SELECT EXISTS (SELECT 1 FROM ${ident(r.table)}) AS "any"`);
    if (row?.any) return { status: 'skipped' };
  }
  const hashes = await hashSeedPasswords(model, seed.records, passwordCosts);
  const errors = new DatabaseErrorMapper(model);
  await db.transaction(async (tx) => {
    for (const record of seed.records) {
      try {
        const insert = compileInsert(model, record.resource, [{ ...record.values, ...hashes.get(record) }], ['id']);
        const [inserted] = await tx.query<{ id: unknown }>(insert.text, insert.values);
        for (const [relName, ids] of record.links) {
          const relation = record.resource.relationsByName.get(relName);
          if (relation?.kind !== 'manyToMany' || ids.length === 0) continue;
          const target = getResource(model, relation.target);
          const types = { source: record.resource.idType, target: target.idType };
          const link = compileLink(model, relation, target, types, { parents: ids.map(() => inserted?.id), targets: ids }, TRUE);
          await tx.query(link.text, link.values);
        }
      } catch (error) {
        throw refused(seed.file, record, error, errors);
      }
    }
    for (const resource of new Set(seed.records.map((r) => r.resource))) {
      if (resource.idType !== 'bigint') continue;
      await tx.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT max("id") FROM ${ident(resource.table)}), 1))`, [resource.table]);
    }
  });
  return { status: 'loaded', records: seed.records.length };
}

/** A record the database refused, as a StartupError naming it; an outage stays what it is. */
function refused(file: string, record: SeedRecord, error: unknown, errors: DatabaseErrorMapper): unknown {
  const mapped = errors.map(error);
  if (mapped?.code === 'KILN_DATABASE_UNAVAILABLE' || mapped?.code === 'KILN_DATABASE_TIMEOUT') return error;
  const reason = mapped?.detail ?? (error as Error).message;
  // Records are inserted in the order of the file: a reference to a later record does not exist yet.
  const hint = mapped?.code === 'KILN_REFERENCE_NOT_FOUND' ? ' (records load in the order of the file: list the records it points at first)' : '';
  return new StartupError(`${file}: ${record.where}: ${reason}${hint}; nothing was loaded`, { cause: error });
}
