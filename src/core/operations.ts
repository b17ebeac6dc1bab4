import type { Database, Queryable } from '../db/database.js';
import type { ManyToManyRelation, Model, Resource } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import type { Statement } from '../sql/fragments.js';
import { compileCount, compileFindById, compileList, type RowScope } from '../sql/select.js';
import { compileDelete, compileInsert, compileSetLinks, compileUpdate } from '../sql/write.js';
import type { CursorCodec } from './cursor.js';
import type { DatabaseErrorMapper } from './database-errors.js';
import { KilnError } from './errors.js';
import { loadIncludes } from './includes.js';
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
    const rows = await this.#run(q, resource, compileList(this.#model, resource, query, columns, options.scope));
    const hasMore = rows.length > query.limit;
    if (hasMore) rows.pop();
    const last = rows[rows.length - 1];
    const nextCursor =
      hasMore && last
        ? this.#cursors.encode(
            sortSignature(query),
            query.sort.map((k) => cursorValue(last[k.field.name])),
          )
        : null;
    const page: Page = { limit: query.limit, hasMore, nextCursor };
    if (query.count) {
      const [count] = await this.#run(q, resource, compileCount(this.#model, resource, query.filters, options.scope));
      (page as { total?: number }).total = Number(count?.total ?? 0);
    }
    await this.#finish(q, resource, rows, query, options);
    return { rows, page };
  }

  decodeCursor(query: Omit<ListQuery, 'after'>, cursor: string): unknown[] {
    return this.#cursors.decode(cursor, sortSignature(query));
  }

  async get(resource: Resource, id: unknown, selection: Selection, options: OperationOptions = {}): Promise<Row> {
    const q = options.tx ?? this.#db;
    const columns = fetchColumns(resource, selection, []);
    const rows = await this.#run(q, resource, compileFindById(resource, columns, id, { scope: options.scope }));
    if (rows.length === 0) throw notFound(resource, id);
    await this.#finish(q, resource, rows, selection, options);
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
        throw this.#errors.referenceInUse(error) ?? error;
      }
    };
    if (!options.precondition) return run(options.tx ?? this.#db);
    return this.#inTransaction(options, async (tx) => {
      await this.#lockCurrent(tx, resource, id, options);
      await run(tx);
    });
  }

  /** Runs `fn` in the given transaction, or a new one. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#db.transaction(fn);
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
        await tx.query(s.text, s.values);
      }
    }
  }

  #inTransaction<T>(options: OperationOptions, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return options.tx ? fn(options.tx) : this.#db.transaction(fn);
  }

  async #run(q: Queryable, resource: Resource, statement: Statement): Promise<Row[]> {
    try {
      return this.#shaper.shape(resource, await q.query<Row>(statement.text, statement.values));
    } catch (error) {
      throw this.#errors.map(error) ?? error;
    }
  }

  async #finish(q: Queryable, resource: Resource, rows: Row[], selection: Selection, options: OperationOptions): Promise<void> {
    if (selection.include.size > 0) {
      try {
        await loadIncludes(q, this.#model, this.#shaper, resource, rows, selection.include, {
          perParent: this.#config.maxIncludePerParent,
          scope: options.scope,
        });
      } catch (error) {
        throw this.#errors.map(error) ?? error;
      }
    }
    const keep = new Set([...selection.fields, ...selection.include.keys()]);
    if (keep.size !== Object.keys(rows[0] ?? {}).length) keepOnly(rows, keep);
  }
}

/** Requested fields plus what the server needs itself: relation keys for includes, sort keys for cursors. */
function fetchColumns(resource: Resource, selection: Selection, sortFields: readonly string[]): string[] {
  const needed = new Set(selection.fields);
  for (const name of selection.include.keys()) {
    const relation = resource.relationsByName.get(name);
    if (relation?.kind === 'belongsTo') needed.add(relation.foreignKey);
  }
  for (const name of sortFields) needed.add(name);
  return resource.fields.filter((f) => needed.has(f.name)).map((f) => f.name);
}

function sortSignature(query: Pick<ListQuery, 'sort'>): string {
  return query.sort.map((k) => `${k.descending ? '-' : ''}${k.field.name}`).join(',');
}

function cursorValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

function notFound(resource: Resource, id: unknown): KilnError {
  return new KilnError('KILN_NOT_FOUND', { detail: `${resource.name} ${String(id)} does not exist` });
}
