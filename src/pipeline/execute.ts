/**
 * Stage "execute": runs an operation's statements. Reads are one statement (a first-level belongsTo
 * include is joined into it) plus one per other include node and level; a write that needs more than
 * one statement (links, an If-Match check, rows checked against an access rule, a bulk insert split
 * under PostgreSQL's parameter limit) runs them in one transaction. Every statement is compiled with
 * the caller's access rule (src/sql/predicate.ts); database errors are mapped to registered codes.
 * Fields the caller reads on some rows only are decided by the same statements (src/sql/select.ts)
 * and removed from the rows that may not show them before anything else sees the rows.
 */
import type { FieldView } from '../access/field-access.js';
import { hideUnshown } from '../access/field-visibility.js';
import type { CompiledModel, CompiledResource } from '../core/compiled-model.js';
import { type CursorCodec, invalid as invalidCursor } from '../core/cursor.js';
import type { DatabaseErrorMapper } from '../core/database-errors.js';
import { KilnError } from '../core/errors.js';
import { attachJoined, finishJoined, type JoinedInclude, loadIncludes, type PlannedIncludes, planJoins, type ScopeFor } from '../core/includes.js';
import type { WriteInput } from '../core/input.js';
import { MAX_STATEMENT_PARAMETERS } from '../core/limits.js';
import { isTrue, type Predicate } from '../core/predicate.js';
import type { ListQuery, Page, Row, Selection } from '../core/query.js';
import { keepOnly, shapeRows } from '../core/rows.js';
import { reportCheckFailures, withItemPaths } from '../core/write-errors.js';
import type { Database, Queryable } from '../db/database.js';
import { type CascadedChange, compileCascadingDelete, hasDependents } from '../sql/cascade.js';
import type { Statement } from '../sql/fragments.js';
import { ListStatements } from '../sql/list-statements.js';
import type { ScopeOf } from '../sql/predicate.js';
import type { Access } from '../sql/select.js';
import { compileCount, compileFindById, joinedColumn, type Projection, projection } from '../sql/select.js';
import { compileDelete, compileInsert, compileLink, compileUnlinkOthers, compileUpdate, parametersPerRow, type RowChecks } from '../sql/write.js';
import { etagOf, ifMatch } from './serialize.js';

/** What a write may touch and must check, from the authorize stage. */
export interface WriteAccess {
  /** Rows an update or delete may touch. */
  readonly rows: Predicate;
  /** What the rows a create or update produces must meet. */
  readonly checks: RowChecks;
  /** Rows of other resources the caller may read: link targets. */
  readonly scopeOf: ScopeOf;
  /** What the caller is shown of the records it writes (the answer, the ETag If-Match is compared with); every readable field when absent. */
  readonly view?: FieldView;
  /** Fields the caller may not write: a replace (PUT) keeps their stored values instead of resetting them. */
  readonly kept?: ReadonlySet<string>;
}

/** What a delete removed: the row as JSON text (when asked for), and what ON DELETE actions changed elsewhere. */
export interface Deleted {
  readonly snapshot?: string;
  readonly cascaded: readonly CascadedChange[];
}

export interface ReadOptions {
  /** Read inside this open transaction (a hook reads what its own transaction wrote). */
  readonly tx?: Queryable;
}

export interface WriteOptions {
  /** Run inside this open transaction (an idempotent create runs in the one that claims its key). */
  readonly tx?: Queryable;
  /** The If-Match header: refused with 412 unless it matches the current record's ETag. */
  readonly ifMatch?: string;
}

export class Executor {
  readonly #db: Database;
  readonly #compiled: CompiledModel;
  readonly #errors: DatabaseErrorMapper;
  readonly #cursors: CursorCodec;
  readonly #lists: ListStatements;

  constructor(db: Database, compiled: CompiledModel, errors: DatabaseErrorMapper, cursors: CursorCodec) {
    this.#db = db;
    this.#compiled = compiled;
    this.#errors = errors;
    this.#cursors = cursors;
    this.#lists = new ListStatements(compiled.model);
  }

  get db(): Database {
    return this.#db;
  }

  async list(r: CompiledResource, query: ListQuery, access: Access, includes: ScopeFor, q: Queryable = this.#db): Promise<{ rows: Row[]; page: Page }> {
    const resource = r.resource;
    const columns = fetchColumns(
      r,
      query,
      query.sort.map((k) => k.field.name),
    );
    const plan = planJoins(query.include);
    const after = query.position ? await this.#after(q, r, query, access) : undefined;
    const rows = await this.#run(q, r, this.#lists.compile(resource, query, projectionOf(r, columns), access, plan.joined, after));
    if (access.shownOf) hideUnshownFields(rows, r, access, plan.joined);
    const hasMore = rows.length > query.limit;
    if (hasMore) rows.pop();
    const last = rows[rows.length - 1];
    const nextCursor =
      hasMore && last
        ? this.#cursors.encode(
            query.cursorBinding,
            query.sort.map((k) => cursorValue(last[k.field.name])),
            last.id,
          )
        : null;
    const page: Page = { limit: query.limit, hasMore, nextCursor };
    if (query.count) {
      const [count] = await this.#run(q, r, compileCount(this.#compiled.model, resource, query.where, access));
      (page as { total?: number }).total = Number(count?.total ?? 0);
    }
    await this.#finish(q, rows, query, columns, plan, includes);
    return { rows, page };
  }

  /**
   * The sort values a page starts after. A cursor too long to carry them holds the last row's id
   * instead: its values are read again, under the same access rule; a row gone since is a cursor
   * that no longer points anywhere.
   */
  async #after(q: Queryable, r: CompiledResource, query: ListQuery, access: Access): Promise<readonly unknown[] | undefined> {
    const position = query.position;
    if (!position) return undefined;
    if ('after' in position) return position.after;
    const fields = query.sort.map((k) => k.field.name);
    const [anchor] = await this.#run(q, r, compileFindById(this.#compiled.model, r.resource, projection(r.resource, fields), position.anchor, access));
    if (!anchor) throw invalidCursor('the row this cursor continues after no longer exists; start again from the first page');
    return fields.map((f) => cursorValue(anchor[f]));
  }

  get(r: CompiledResource, id: unknown, selection: Selection, access: Access, includes: ScopeFor, q: Queryable = this.#db): Promise<Row> {
    // The usual read by id (every readable field, no include, no rule) runs text compiled at start-up,
    // and no more promises than the query's own: it is the most frequent request of most APIs.
    if (selection.fields === r.readable && selection.include.length === 0 && isTrue(access.rows) && !access.shownOf?.(r.resource)) {
      return q.query<Row>(r.findByIdText, [id]).then(
        (rows) => {
          const row = rows[0];
          if (!row) throw notFound(r, id);
          return shapeRows(r, rows)[0] as Row;
        },
        (error: unknown) => {
          throw this.#mapped(error);
        },
      );
    }
    return this.#getSelected(q, r, id, selection, access, includes);
  }

  async #getSelected(q: Queryable, r: CompiledResource, id: unknown, selection: Selection, access: Access, includes: ScopeFor): Promise<Row> {
    const columns = fetchColumns(r, selection, []);
    const plan = planJoins(selection.include);
    const rows = await this.#run(q, r, compileFindById(this.#compiled.model, r.resource, projectionOf(r, columns), id, access, { joins: plan.joined }));
    if (rows.length === 0) throw notFound(r, id);
    if (access.shownOf) hideUnshownFields(rows, r, access, plan.joined);
    await this.#finish(q, rows, selection, columns, plan, includes);
    return rows[0] as Row;
  }

  /** All-or-nothing: the rows in as few INSERTs as PostgreSQL's parameter limit allows, links and checks in the same transaction. */
  async create(r: CompiledResource, inputs: readonly WriteInput[], access: WriteAccess, options: WriteOptions): Promise<Row[]> {
    const values = inputs.map((i) => i.values);
    const perStatement = Math.max(1, Math.floor(MAX_STATEMENT_PARAMETERS / parametersPerRow(r.resource, values)));
    const chunks: Row[][] = [];
    for (let i = 0; i < values.length; i += perStatement) chunks.push(values.slice(i, i + perStatement));
    const linked = inputs.some((i) => i.links.size > 0);
    const checked = !isTrue(access.checks.rule) || access.checks.references.length > 0;
    const columns = access.view?.columns ?? r.readable;
    const shown = access.view?.shown;
    const write = async (q: Queryable) => {
      const rows: Row[] = [];
      for (const chunk of chunks) rows.push(...(await this.#query(q, compileInsert(this.#compiled.model, r.resource, chunk, columns, access.checks, shown))));
      reportCheckFailures(r, rows, access.checks, 'create', inputs.length > 1);
      hideUnshown(rows, shown);
      if (linked) await this.#link(q, r, rows, inputs, access.scopeOf);
      return shapeRows(r, rows);
    };
    try {
      if (chunks.length === 1 && !linked && !checked) return await write(options.tx ?? this.#db);
      return await this.#inTransaction(options, write);
    } catch (error) {
      throw withItemPaths(this.#mapped(error), error, r.resource, values);
    }
  }

  /** PATCH (`replace: false`) or PUT (`replace: true`) of one record the caller may update. */
  async update(r: CompiledResource, id: unknown, input: WriteInput, access: WriteAccess, options: WriteOptions & { replace: boolean }): Promise<Row> {
    const statement = compileUpdate(this.#compiled.model, r.resource, id, input.values, access.view?.columns ?? r.readable, {
      resetMissing: options.replace,
      scope: access.rows,
      checks: access.checks,
      ...(access.kept && { keep: access.kept }),
      ...(access.view?.shown && { shown: access.view.shown }),
    });
    const checked = !isTrue(access.checks.rule) || access.checks.references.length > 0;
    const write = async (q: Queryable) => {
      if (options.ifMatch !== undefined) await this.#lockCurrent(q, r, id, access.rows, options.ifMatch, access.view);
      const [row] = await this.#query(q, statement);
      if (!row) throw notFound(r, id);
      reportCheckFailures(r, [row], access.checks, 'update', false);
      hideUnshown([row], access.view?.shown);
      for (const [name, ids] of input.links) await this.#replaceLinks(q, r, id, name, ids, access.scopeOf);
      return shapeRows(r, [row])[0] as Row;
    };
    try {
      if (options.ifMatch === undefined && input.links.size === 0 && !checked) return await write(options.tx ?? this.#db);
      return await this.#inTransaction(options, write);
    } catch (error) {
      throw this.#mapped(error);
    }
  }

  /**
   * `view`: what the caller is shown of the record, whose ETag If-Match is compared with. `snapshot`:
   * answer the deleted row as JSON text (every column), and what its foreign keys' ON DELETE actions
   * changed in other resources, for change events.
   */
  async remove(r: CompiledResource, id: unknown, scope: Predicate, options: WriteOptions, view?: FieldView, snapshot = false): Promise<Deleted> {
    const plain = compileDelete(this.#compiled.model, r.resource, id, scope, snapshot);
    const statement = snapshot && hasDependents(this.#compiled.model, r.resource) ? compileCascadingDelete(this.#compiled.model, r.resource, plain) : plain;
    const run = async (q: Queryable): Promise<Deleted> => {
      if (options.ifMatch !== undefined) await this.#lockCurrent(q, r, id, scope, options.ifMatch, view);
      const rows = await q.query<{ snapshot?: string; cascaded?: string | null }>(statement.text, statement.values);
      const row = rows[0];
      if (!row) throw notFound(r, id);
      return { snapshot: row.snapshot, cascaded: row.cascaded ? (JSON.parse(row.cascaded) as CascadedChange[]) : [] };
    };
    try {
      if (options.ifMatch === undefined) return await run(options.tx ?? this.#db);
      return await this.#inTransaction(options, run);
    } catch (error) {
      throw this.#errors.referenceInUse(error) ?? this.#mapped(error);
    }
  }

  /** Replaces the links of one record the caller may update: the record is locked first, so it cannot vanish meanwhile. */
  async setLinks(r: CompiledResource, id: unknown, relation: string, ids: readonly unknown[], access: WriteAccess, options: WriteOptions): Promise<void> {
    try {
      await this.#inTransaction(options, async (tx) => {
        await this.#lockFound(tx, r, id, access.rows, access.scopeOf);
        await this.#replaceLinks(tx, r, id, relation, ids, access.scopeOf);
      });
    } catch (error) {
      throw this.#mapped(error);
    }
  }

  /**
   * Locks the record an update or delete of the caller's will change, inside its transaction, before a
   * before-hook sees it: a record that does not exist or that the caller may not change is 404 before
   * any app code runs (a hook must not tell hidden records from missing ones), and it cannot change or
   * vanish between the hook and the write. With If-Match, the precondition is checked here too.
   */
  async lockTarget(tx: Queryable, r: CompiledResource, id: unknown, scope: Predicate, ifMatch?: string, view?: FieldView): Promise<void> {
    try {
      if (ifMatch !== undefined) await this.#lockCurrent(tx, r, id, scope, ifMatch, view);
      else await this.#lockFound(tx, r, id, scope);
    } catch (error) {
      throw this.#mapped(error);
    }
  }

  /** Locks the record among `scope`'s rows, or throws KILN_NOT_FOUND. */
  async #lockFound(q: Queryable, r: CompiledResource, id: unknown, scope: Predicate, scopeOf: ScopeOf = () => undefined): Promise<void> {
    const [current] = await this.#query(
      q,
      compileFindById(this.#compiled.model, r.resource, projection(r.resource, ['id']), id, { rows: scope, scopeOf }, { lock: true }),
    );
    if (!current) throw notFound(r, id);
  }

  /** Runs `fn` in a new transaction. Failing to open it (the database is down) maps like any query error. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#db.transaction(fn).catch((error: unknown) => {
      throw this.#mapped(error);
    });
  }

  #inTransaction<T>(options: WriteOptions, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return options.tx ? fn(options.tx) : this.#db.transaction(fn);
  }

  /**
   * Locks the record and compares its ETag with If-Match. The ETag is that of the representation the
   * caller is shown (a GET of theirs answers the same one): a change to a field they cannot read
   * neither breaks their If-Match nor tells them it happened.
   */
  async #lockCurrent(q: Queryable, r: CompiledResource, id: unknown, scope: Predicate, expected: string, view?: FieldView): Promise<void> {
    const shown = view?.shown;
    const access = { rows: scope, scopeOf: () => undefined, ...(shown && { shownOf: () => shown }) };
    const select = view ? projection(r.resource, view.columns) : r.readableProjection;
    const [current] = await this.#run(q, r, compileFindById(this.#compiled.model, r.resource, select, id, access, { lock: true }));
    if (!current) throw notFound(r, id);
    hideUnshown([current], shown);
    if (!ifMatch(expected, etagOf(r.serialize.one({ data: current })))) {
      throw new KilnError('KILN_PRECONDITION_FAILED', { detail: 'If-Match does not match the current ETag of the record' });
    }
  }

  /** Links of new rows: one statement per relation for all of them. */
  async #link(q: Queryable, r: CompiledResource, rows: readonly Row[], inputs: readonly WriteInput[], scopeOf: ScopeOf): Promise<void> {
    for (const [name, relation] of r.input.links) {
      const parents: unknown[] = [];
      const targets: unknown[] = [];
      inputs.forEach((input, i) => {
        for (const target of input.links.get(name) ?? []) {
          parents.push(rows[i]?.id);
          targets.push(target);
        }
      });
      if (targets.length === 0) continue;
      const target = this.#compiled.of(relation.target).resource;
      const visible = scopeOf(target) ?? { kind: 'true' };
      const statement = compileLink(
        this.#compiled.model,
        relation,
        target,
        { source: r.resource.idType, target: target.idType },
        { parents, targets },
        visible,
      );
      const found = await q.query<{ id: string }>(statement.text, statement.values);
      missingLinkTargets(name, target.singular, inputs.length > 1 ? inputs.map((i) => i.links.get(name) ?? []) : [targets], found);
    }
  }

  /** Replaces one record's links of one relation: unlink the rest (among visible targets), then link what is missing. */
  async #replaceLinks(q: Queryable, r: CompiledResource, id: unknown, name: string, ids: readonly unknown[], scopeOf: ScopeOf): Promise<void> {
    const relation = r.input.links.get(name);
    if (!relation) throw new Error(`${r.resource.name} has no manyToMany relation ${name}`);
    const target = this.#compiled.of(relation.target).resource;
    const types = { source: r.resource.idType, target: target.idType };
    const visible = scopeOf(target) ?? { kind: 'true' };
    const unlink = compileUnlinkOthers(this.#compiled.model, relation, target, types, id, ids, visible);
    await q.query(unlink.text, unlink.values);
    if (ids.length === 0) return;
    const link = compileLink(this.#compiled.model, relation, target, types, { parents: ids.map(() => id), targets: ids }, visible);
    missingLinkTargets(name, target.singular, [ids], await q.query<{ id: string }>(link.text, link.values));
  }

  #run(q: Queryable, r: CompiledResource, statement: Statement): Promise<Row[]> {
    return q.query<Row>(statement.text, statement.values).then(
      (rows) => shapeRows(r, rows),
      (error: unknown) => {
        throw this.#mapped(error);
      },
    );
  }

  async #query(q: Queryable, statement: Statement): Promise<Row[]> {
    return q.query<Row>(statement.text, statement.values);
  }

  #mapped(error: unknown): unknown {
    return this.#errors.map(error) ?? error;
  }

  /** Attaches includes (joined ones from the rows themselves, the others by their own statements) and drops internal keys. */
  async #finish(q: Queryable, rows: Row[], selection: Selection, columns: readonly string[], plan: PlannedIncludes, includes: ScopeFor): Promise<void> {
    if (plan.joined.length > 0 || plan.rest.length > 0) {
      try {
        const records = attachJoined(this.#compiled, rows, columns, plan.joined);
        for (const [i, join] of plan.joined.entries()) {
          if (join.node.include.length > 0) await loadIncludes(q, this.#compiled, records[i] ?? [], join.node.include, includes);
        }
        finishJoined(records, plan.joined);
        if (plan.rest.length > 0) await loadIncludes(q, this.#compiled, rows, plan.rest, includes);
      } catch (error) {
        throw this.#mapped(error);
      }
    }
    // fetchColumns hands back the selection's own list when it added nothing; otherwise drop what it added.
    if (columns !== selection.fields) keepOnly(rows, new Set([...selection.fields, ...selection.include.map((n) => n.relation.name), '_truncated']));
  }
}

/**
 * Requested fields plus what the server needs itself: relation keys for includes, sort keys for
 * cursors. When nothing is missing (the usual case) it is the selection's own list, unchanged.
 */
function fetchColumns(r: CompiledResource, selection: Selection, sortFields: readonly string[]): readonly string[] {
  const missing: string[] = [];
  const need = (name: string) => {
    if (!selection.fields.includes(name) && !missing.includes(name)) missing.push(name);
  };
  for (const node of selection.include) if (node.relation.kind === 'belongsTo') need(node.relation.foreignKey);
  for (const name of sortFields) need(name);
  if (missing.length === 0) return selection.fields;
  const needed = new Set([...selection.fields, ...missing]);
  return r.resource.fields.filter((f) => needed.has(f.name)).map((f) => f.name);
}

/** Removes the fields of rows, and of their joined records, that the caller may not read on them. */
function hideUnshownFields(rows: Row[], r: CompiledResource, access: Access, joined: readonly JoinedInclude[]): void {
  hideUnshown(rows, access.shownOf?.(r.resource));
  for (const join of joined) hideUnshown(rows, access.shownOf?.(join.target), joinedColumn(join.relation.name, ''));
}

/** The readable fields' select list is compiled once per resource; any other list is built for the read. */
function projectionOf(r: CompiledResource, columns: readonly string[]): Projection {
  return columns === r.readable ? r.readableProjection : projection(r.resource, columns);
}

function cursorValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

function notFound(r: CompiledResource, id: unknown): KilnError {
  return new KilnError('KILN_NOT_FOUND', { detail: `no such ${r.resource.singular} (id ${String(id)})` });
}

/**
 * A requested link target that the statement did not find does not exist for this caller: missing
 * and hidden records answer alike, so a link cannot confirm that a hidden record exists.
 */
function missingLinkTargets(relation: string, targetSingular: string, requested: readonly (readonly unknown[])[], found: readonly { id: string }[]): void {
  const have = new Set(found.map((f) => f.id.toLowerCase()));
  const errors = requested.flatMap((ids, i) => {
    const missing = ids.filter((id) => !have.has(String(id).toLowerCase()));
    if (missing.length === 0) return [];
    const path = requested.length > 1 ? `/${i}/${relation}` : `/${relation}`;
    return [{ path, code: 'reference', message: `no such ${targetSingular}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}` }];
  });
  if (errors.length > 0) throw new KilnError('KILN_REFERENCE_NOT_FOUND', { detail: `relation "${relation}" points at a record that does not exist`, errors });
}
