import type { Database, Queryable } from '../db/database.js';
import type { ManyToManyRelation, Model, Resource } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import type { Statement } from '../sql/fragments.js';
import { compileCount, compileFindById, compileList, type RowScope } from '../sql/select.js';
import { compileDelete, compileInsert, compileSetLinks, compileUpdate } from '../sql/write.js';
import type { CursorCodec } from './cursor.js';
import type { DatabaseErrorMapper } from './database-errors.js';
import { KilnError } from './errors.js';
import { attachJoined, loadIncludes, type PlannedIncludes, planIncludes } from './includes.js';
import type { ListQuery, Page, Row, Selection } from './query.js';
import { keepOnly, RowShaper, readableFields } from './rows.js';

/** What a request brings to an operation beyond its arguments. */
export interface OperationOptions {
  /** Run inside this transaction instead of on the pool. */
  readonly tx?: Queryable;
  /** Narrows visible rows (access rules). */
  readonly scope?: RowScope;
}

export interface WriteOptions extends OperationOptions {
  /** Called with the current record, locked, before it is changed; throws to refuse (If-Match). */
  readonly precondition?: (current: Row) => void;
}

/** A create/update body split into column values and manyToMany link lists. */
export interface WriteInput {
  readonly values: Row;
  readonly links: ReadonlyMap<string, readonly unknown[]>;
}

export interface OperationsConfig {
  readonly maxIncludePerParent: number;
}

/**
 * The operations every surface calls: REST now, GraphQL later. Reads are one statement (plus one per
 * include); writes that touch more than one row or table run in one transaction.
 */
export class Operations {
  readonly #db: Database;
  readonly #model: Model;
  readonly #cursors: CursorCodec;
  readonly #errors: DatabaseErrorMapper;
  readonly #shaper: RowShaper;
  readonly #config: OperationsConfig;

  constructor(db: Database, model: Model, cursors: CursorCodec, errors: DatabaseErrorMapper, config: OperationsConfig) {
    this.#db = db;
    this.#model = model;
    this.#cursors = cursors;
    this.#errors = errors;
    this.#shaper = new RowShaper(model.resources);
    this.#config = config;
  }

  get db(): Database {
    return this.#db;
  }

  async list(resource: Resource, query: ListQuery, options: OperationOptions = {}): Promise<{ rows: Row[]; page: Page }> {
    const q = options.tx ?? this.#db;
    const columns = fetchColumns(
      resource,
      query,
      query.sort.map((k) => k.field.name),
    );
    const includes = planIncludes(this.#model, resource, query.include);
    const rows = await this.#run(q, resource, compileList(this.#model, resource, query, columns, options.scope, includes.joined));
    const hasMore = rows.length > query.limit;
    if (hasMore) rows.pop();
    const last = rows[rows.length - 1];
    const nextCursor =
      hasMore && last
        ? this.#cursors.encode(
            sortSignature(resource, query),
            query.sort.map((k) => cursorValue(last[k.field.name])),
          )
        : null;
    const page: Page = { limit: query.limit, hasMore, nextCursor };
    if (query.count) {
      const [count] = await this.#run(q, resource, compileCount(this.#model, resource, query.filters, options.scope));
      (page as { total?: number }).total = Number(count?.total ?? 0);
    }
    await this.#finish(q, resource, rows, query, columns, includes, options);
    return { rows, page };
  }

  decodeCursor(resource: Resource, query: Omit<ListQuery, 'after'>, cursor: string): unknown[] {
    return this.#cursors.decode(cursor, sortSignature(resource, query));
  }

  async get(resource: Resource, id: unknown, selection: Selection, options: OperationOptions = {}): Promise<Row> {
    const q = options.tx ?? this.#db;
    const columns = fetchColumns(resource, selection, []);
    const includes = planIncludes(this.#model, resource, selection.include);
    const rows = await this.#run(q, resource, compileFindById(resource, columns, id, { scope: options.scope, joins: includes.joined }));
    if (rows.length === 0) throw notFound(resource, id);
    await this.#finish(q, resource, rows, selection, columns, includes, options);
    return rows[0] as Row;
  }

  async create(resource: Resource, input: WriteInput, options: OperationOptions = {}): Promise<Row> {
    const [row] = await this.createMany(resource, [input], options);
    return row as Row;
  }

  /** All-or-nothing: one INSERT for every record, links in the same transaction. */
  async createMany(resource: Resource, inputs: readonly WriteInput[], options: OperationOptions = {}): Promise<Row[]> {
    const columns = readableFields(resource);
    const insert = compileInsert(
      resource,
      inputs.map((i) => i.values),
      columns,
    );
    const needsTransaction = inputs.some((i) => i.links.size > 0);
    if (!needsTransaction) return this.#run(options.tx ?? this.#db, resource, insert);
    return this.#inTransaction(options, async (tx) => {
      const rows = await this.#run(tx, resource, insert);
      for (const [i, row] of rows.entries()) await this.#setLinks(tx, resource, row.id, (inputs[i] as WriteInput).links);
      return rows;
    });
  }

  /** PATCH (`replace: false`) or PUT (`replace: true`) of one record. */
  async update(resource: Resource, id: unknown, input: WriteInput, options: WriteOptions & { replace: boolean }): Promise<Row> {
    const columns = readableFields(resource);
    const statement = compileUpdate(resource, id, input.values, columns, { resetMissing: options.replace });
    if (!options.precondition && input.links.size === 0) {
      const rows = await this.#run(options.tx ?? this.#db, resource, statement);
      if (rows.length === 0) throw notFound(resource, id);
      return rows[0] as Row;
    }
    return this.#inTransaction(options, async (tx) => {
      await this.#lockCurrent(tx, resource, id, options);
      const [row] = await this.#run(tx, resource, statement);
      await this.#setLinks(tx, resource, id, input.links);
      return row as Row;
    });
  }

  async remove(resource: Resource, id: unknown, options: WriteOptions = {}): Promise<void> {
    const run = async (q: Queryable) => {
      try {
        const rows = await q.query(compileDelete(resource, id).text, [id]);
        if (rows.length === 0) throw notFound(resource, id);
      } catch (error) {
        throw this.#errors.referenceInUse(error) ?? this.#errors.map(error) ?? error;
      }
    };
    if (!options.precondition) return run(options.tx ?? this.#db);
    return this.#inTransaction(options, async (tx) => {
      await this.#lockCurrent(tx, resource, id, options);
      await run(tx);
    });
  }

  /** Runs `fn` in a new transaction. Failing to open it (the database is down) maps like any query error. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#db.transaction(fn).catch((error: unknown) => {
      throw this.#errors.map(error) ?? error;
    });
  }

  async #lockCurrent(tx: Queryable, resource: Resource, id: unknown, options: WriteOptions): Promise<void> {
    const [current] = await this.#run(tx, resource, compileFindById(resource, readableFields(resource), id, { lock: true, scope: options.scope }));
    if (!current) throw notFound(resource, id);
    options.precondition?.(current);
  }

  async #setLinks(tx: Queryable, resource: Resource, id: unknown, links: ReadonlyMap<string, readonly unknown[]>): Promise<void> {
    for (const [name, targetIds] of links) {
      const relation = resource.relationsByName.get(name) as ManyToManyRelation;
      const target = getResource(this.#model, relation.target);
      for (const s of compileSetLinks(relation, { source: resource.idType, target: target.idType }, id, targetIds)) {
        try {
          await tx.query(s.text, s.values);
        } catch (error) {
          throw this.#errors.map(error) ?? error; // a link to a missing record is a 422, not a 500
        }
      }
    }
  }

  #inTransaction<T>(options: OperationOptions, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return options.tx ? fn(options.tx) : this.transaction(fn);
  }

  async #run(q: Queryable, resource: Resource, statement: Statement): Promise<Row[]> {
    try {
      return this.#shaper.shape(resource, await q.query<Row>(statement.text, statement.values));
    } catch (error) {
      throw this.#errors.map(error) ?? error;
    }
  }

  async #include(
    q: Queryable,
    resource: Resource,
    rows: Row[],
    columns: readonly string[],
    includes: PlannedIncludes,
    options: OperationOptions,
  ): Promise<void> {
    const joinedRecords = attachJoined(this.#shaper, rows, columns, includes.joined);
    const includeOptions = { perParent: this.#config.maxIncludePerParent, scope: options.scope };
    try {
      for (const [i, join] of includes.joined.entries()) {
        if (join.below.size > 0) await loadIncludes(q, this.#model, this.#shaper, join.target, joinedRecords[i] ?? [], join.below, includeOptions);
      }
      if (includes.rest.size > 0) await loadIncludes(q, this.#model, this.#shaper, resource, rows, includes.rest, includeOptions);
    } catch (error) {
      throw this.#errors.map(error) ?? error;
    }
  }

  /** Attaches includes (joined ones from the rows themselves, the others by their own statements) and drops internal keys. */
  async #finish(
    q: Queryable,
    resource: Resource,
    rows: Row[],
    selection: Selection,
    columns: readonly string[],
    includes: PlannedIncludes,
    options: OperationOptions,
  ): Promise<void> {
    if (includes.joined.length > 0 || includes.rest.size > 0) await this.#include(q, resource, rows, columns, includes, options);
    // fetchColumns hands back the selection's own list when it added nothing; otherwise drop what it added.
    if (columns !== selection.fields) keepOnly(rows, new Set([...selection.fields, ...selection.include.keys()]));
  }
}

/**
 * Requested fields plus what the server needs itself: relation keys for includes, sort keys for
 * cursors. When nothing is missing (the usual case) it is the selection's own list, unchanged.
 */
function fetchColumns(resource: Resource, selection: Selection, sortFields: readonly string[]): readonly string[] {
  const missing: string[] = [];
  const need = (name: string) => {
    if (!selection.fields.includes(name)) missing.push(name);
  };
  for (const name of selection.include.keys()) {
    const relation = resource.relationsByName.get(name);
    if (relation?.kind === 'belongsTo') need(relation.foreignKey);
  }
  for (const name of sortFields) need(name);
  if (missing.length === 0) return selection.fields;
  const needed = new Set([...selection.fields, ...missing]);
  return resource.fields.filter((f) => needed.has(f.name)).map((f) => f.name);
}

/** What a cursor is bound to: the resource and its sort, so it cannot be replayed elsewhere. */
function sortSignature(resource: Resource, query: Pick<ListQuery, 'sort'>): string {
  return `${resource.name}:${query.sort.map((k) => `${k.descending ? '-' : ''}${k.field.name}`).join(',')}`;
}

function cursorValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

function notFound(resource: Resource, id: unknown): KilnError {
  return new KilnError('KILN_NOT_FOUND', { detail: `${resource.name} ${String(id)} does not exist` });
}
