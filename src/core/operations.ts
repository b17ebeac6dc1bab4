/**
 * The operations every transport calls: REST now, GraphQL next, and code that calls them directly.
 * Each takes the caller's RequestContext and runs the same stages in the same order: rate-limit,
 * validate, authorize, execute (src/pipeline/). Nothing here knows about HTTP.
 *
 * Field rules take part in each stage: validation knows only the fields the caller may read, a body
 * setting a field the caller may not write is refused before any SQL, and the statements return
 * only what the caller may read (src/access/field-*.ts).
 */

import { withCallerValues } from '../access/caller-values.js';
import { type FieldsOf, fieldResolver, NO_FIELD_LIMITS, shownWhere, viewOf } from '../access/field-access.js';
import { refuseUnwritable } from '../access/field-writes.js';
import type { Database, Queryable } from '../db/database.js';
import type { ChangePublisher, ChangeType } from '../events/bus.js';
import { bindOperations } from '../extensions/bound-operations.js';
import { HookRunner } from '../extensions/hooks.js';
import type { ResourceHooks } from '../extensions/types.js';
import type { Resource } from '../model/ir.js';
import { type AccessPolicy, authorize, type FieldAccess, OPEN_ACCESS, readableRows } from '../pipeline/authorize.js';
import type { Principal, RequestContext } from '../pipeline/context.js';
import { type Deleted, Executor, type ReadOptions, type WriteAccess, type WriteOptions } from '../pipeline/execute.js';
import type { ListArgs, SelectionArgs } from '../pipeline/parse.js';
import { type OperationName, type RateLimiter, rateLimit } from '../pipeline/rate-limit.js';
import { validateId, validateList, validateRecord, validateRecords, validateSelection } from '../pipeline/validate.js';
import type { ScopeOf } from '../sql/predicate.js';
import type { Access } from '../sql/select.js';
import { NO_CHECKS, type RowChecks } from '../sql/write.js';
import type { CompiledModel, CompiledResource } from './compiled-model.js';
import type { CursorCodec } from './cursor.js';
import type { DatabaseErrorMapper } from './database-errors.js';
import { KilnError } from './errors.js';
import type { WriteInput } from './input.js';
import { cursorCaller, type QueryEnvironment } from './list-query.js';
import { isTrue, type Predicate, TRUE } from './predicate.js';
import type { IncludeNode, Page, Row } from './query.js';

export type { ReadOptions, WriteOptions } from '../pipeline/execute.js';

/** Runs a create inside a transaction the caller opens (see Operations.create). */
export interface Around<R, T> {
  readonly around?: (write: (tx: Queryable) => Promise<R>) => Promise<T>;
}

export interface ListResult {
  readonly rows: Row[];
  readonly page: Page;
}

export interface OperationsOptions {
  readonly db: Database;
  readonly compiled: CompiledModel;
  readonly cursors: CursorCodec;
  readonly errors: DatabaseErrorMapper;
  /** Who may do what; every action is open when absent. */
  readonly policy?: AccessPolicy;
  readonly rateLimiters?: readonly RateLimiter[];
  /** Told of every write once it committed (change events: src/events/). */
  readonly events?: ChangePublisher;
  /** Told of every write once it committed, before the events, and waited for (the response cache: src/cache/). */
  readonly changes?: ChangeListenerOfWrites;
}

/** What a write changed: its resource and the kind of change (the response cache bumps what they invalidate). */
export interface ChangeListenerOfWrites {
  changed(resource: string, type: ChangeType): Promise<void>;
}

/** `limited`: the caller already passed the rate limits for this read (Operations.limitRead; a cached read runs them first). */
export type CachedReadOptions = ReadOptions & { readonly limited?: boolean };

const NOTHING_HIDDEN: ScopeOf = () => undefined;
const EVERY_ROW: Access = Object.freeze({ rows: TRUE, scopeOf: NOTHING_HIDDEN });
const EVERY_INCLUDED_ROW = () => EVERY_ROW;

export class Operations {
  readonly #compiled: CompiledModel;
  readonly #env: QueryEnvironment;
  readonly #execute: Executor;
  readonly #policy: AccessPolicy;
  readonly #limiters: readonly RateLimiter[];
  readonly #hooks: HookRunner;
  readonly #events: ChangePublisher | undefined;
  readonly #changes: ChangeListenerOfWrites | undefined;
  /** The field rules of one caller; the same constant NO_FIELD_LIMITS for everyone when nothing limits fields. */
  readonly #fieldsOf: (principal: Principal) => FieldsOf;

  constructor(options: OperationsOptions) {
    this.#compiled = options.compiled;
    this.#env = { model: options.compiled.model, compiled: options.compiled, cursors: options.cursors };
    this.#execute = new Executor(options.db, options.compiled, options.errors, options.cursors);
    this.#policy = options.policy ?? OPEN_ACCESS;
    this.#fieldsOf = fieldResolver(this.#policy, options.compiled);
    this.#limiters = options.rateLimiters ?? [];
    this.#hooks = new HookRunner(options.compiled.model, options.errors);
    this.#events = options.events;
    this.#changes = options.changes;
  }

  get db(): Database {
    return this.#execute.db;
  }

  get compiled(): CompiledModel {
    return this.#compiled;
  }

  /** `options.tx`: read inside that transaction (a hook reads what its transaction wrote). */
  async list(ctx: RequestContext, resource: string, args: ListArgs = {}, options: CachedReadOptions = {}): Promise<ListResult> {
    const r = this.#compiled.of(resource);
    if (this.#limiters.length > 0 && !options.limited) await this.#rateLimit(ctx, 'list', r, args);
    const fields = this.#fieldsOf(ctx.principal);
    const query = validateList(this.#env, r, args, ctx.limits, fields, cursorCaller(ctx.principal));
    const rows = authorize(this.#policy, ctx, r.resource, 'list');
    const read = this.#execute.list(r, query, this.#access(ctx, rows, fields), this.#includeAccess(ctx, fields), options.tx ?? this.#replicaFor(ctx));
    if (!this.#hooks.of(r)?.afterRead) return read;
    const result = await read;
    await this.#hooks.afterRead(r, ctx, result.rows);
    return result;
  }

  async get(ctx: RequestContext, resource: string, id: unknown, args?: SelectionArgs, options: CachedReadOptions = {}): Promise<Row> {
    const r = this.#compiled.of(resource);
    if (this.#limiters.length > 0 && !options.limited) await this.#rateLimit(ctx, 'get', r, args);
    const key = validateId(r, id);
    const fields = this.#fieldsOf(ctx.principal);
    const selection = validateSelection(this.#env, r, args, ctx.limits, fields);
    const rows = authorize(this.#policy, ctx, r.resource, 'read');
    const read = this.#execute.get(r, key, selection, this.#access(ctx, rows, fields), this.#includeAccess(ctx, fields), options.tx ?? this.#replicaFor(ctx));
    if (!this.#hooks.of(r)?.afterRead) return read;
    const found = [await read];
    await this.#hooks.afterRead(r, ctx, found);
    return found[0] as Row;
  }

  /** The rate limits of a read, alone: a read answered from the response cache runs them, then no other stage. */
  limitRead(ctx: RequestContext, operation: 'list' | 'get', resource: string, args?: SelectionArgs): void | Promise<void> {
    return this.#rateLimit(ctx, operation, this.#compiled.of(resource), args);
  }

  /** Whether a read of `resource` may be answered from a cache: not when an afterRead hook may change its rows for each call. */
  cacheable(resource: string): boolean {
    return !this.#hooks.of(this.#compiled.of(resource))?.afterRead;
  }

  /**
   * Creates one record. With `around`, the write runs inside the transaction `around` opens, once the
   * body is valid and the caller authorised, and the call answers what `around` answers (an idempotent
   * create stores or replays its response there).
   */
  async create<T = Row>(ctx: RequestContext, resource: string, body: unknown, options: WriteOptions & Around<Row, T> = {}): Promise<T> {
    const r = this.#compiled.of(resource);
    wrote(ctx);
    await this.#rateLimit(ctx, 'create', r);
    const validated = validateRecord(r, 'Create', body);
    const rule = authorize(this.#policy, ctx, r.resource, 'create');
    const fields = this.#fieldsOf(ctx.principal)(r.resource);
    refuseUnwritable(fields, [validated], false);
    const access = this.#writeAccess(ctx, r, TRUE, rule, fields);
    const input = withCallerValues(r, [validated], ctx.principal)[0] as WriteInput;
    const hooks = this.#hooks.of(r);
    if (hooks) return this.#hookedCreate(ctx, r, hooks, [input], access, options, (rows) => rows[0] as Row);
    const write = async (tx = options.tx) => {
      const rows = await this.#guard(ctx, r, this.#execute.create(r, [input], access, { ...options, tx }));
      await this.#announce(tx, r, 'created', rows);
      return rows[0] as Row;
    };
    return options.around ? options.around(write) : ((await write()) as T);
  }

  /** All or nothing: every record is created, or none. `around` as for create. */
  async createMany<T = Row[]>(ctx: RequestContext, resource: string, bodies: unknown, options: WriteOptions & Around<Row[], T> = {}): Promise<T> {
    const r = this.#compiled.of(resource);
    wrote(ctx);
    await this.#rateLimit(ctx, 'createMany', r, undefined, Array.isArray(bodies) ? bodies.length : 1);
    const validated = validateRecords(r, bodies, ctx.limits);
    const rule = authorize(this.#policy, ctx, r.resource, 'create');
    const fields = this.#fieldsOf(ctx.principal)(r.resource);
    refuseUnwritable(fields, validated, true);
    const access = this.#writeAccess(ctx, r, TRUE, rule, fields);
    const inputs = withCallerValues(r, validated, ctx.principal);
    const hooks = this.#hooks.of(r);
    if (hooks) return this.#hookedCreate(ctx, r, hooks, inputs, access, options, (rows) => rows);
    const write = async (tx = options.tx) => {
      const rows = await this.#guard(ctx, r, this.#execute.create(r, inputs, access, { ...options, tx }));
      await this.#announce(tx, r, 'created', rows);
      return rows;
    };
    return options.around ? options.around(write) : ((await write()) as T);
  }

  /** Changes the fields sent (PATCH). */
  update(ctx: RequestContext, resource: string, id: unknown, body: unknown, options: WriteOptions = {}): Promise<Row> {
    return this.#update(ctx, resource, id, body, options, false);
  }

  /**
   * Replaces the record (PUT): fields left out go back to their defaults, except those the caller may
   * not write, which keep their value: resetting one would be a write the caller may not make, and
   * sending it is refused, so a caller could otherwise only ever erase it.
   */
  replace(ctx: RequestContext, resource: string, id: unknown, body: unknown, options: WriteOptions = {}): Promise<Row> {
    return this.#update(ctx, resource, id, body, options, true);
  }

  async remove(ctx: RequestContext, resource: string, id: unknown, options: WriteOptions = {}): Promise<void> {
    const r = this.#compiled.of(resource);
    wrote(ctx);
    await this.#rateLimit(ctx, 'remove', r);
    const key = validateId(r, id);
    const rows = authorize(this.#policy, ctx, r.resource, 'delete');
    // If-Match is compared with the ETag of what the caller is shown of the record.
    const view = options.ifMatch === undefined ? undefined : viewOf(r, this.#fieldsOf(ctx.principal)(r.resource));
    const hooks = this.#hooks.of(r);
    const snapshot = this.#events !== undefined;
    if (!hooks) {
      await this.#announceDelete(options.tx, r, key, await this.#execute.remove(r, key, rows, options, view, snapshot));
      return;
    }
    const remove = async (tx?: Queryable) => {
      if (tx && hooks.beforeDelete) {
        await this.#execute.lockTarget(tx, r, key, rows, options.ifMatch, view);
        await this.#hooks.beforeDelete(r, key, { ctx, tx, ops: bindOperations(this, tx) });
      }
      await this.#announceDelete(tx, r, key, await this.#execute.remove(r, key, rows, { ...options, tx }, view, snapshot));
      if (hooks.afterDelete) await this.#hooks.afterCommit(tx, () => this.#hooks.after(r, 'afterDelete', ctx, { id: key }));
    };
    await this.#hookedWrite(hooks.beforeDelete !== undefined, options, remove);
  }

  /** Sets the links of one record's manyToMany relation to exactly `ids`. */
  async setLinks(ctx: RequestContext, resource: string, id: unknown, relation: string, ids: unknown, options: WriteOptions = {}): Promise<void> {
    const r = this.#compiled.of(resource);
    wrote(ctx);
    await this.#rateLimit(ctx, 'setLinks', r);
    const key = validateId(r, id);
    const input = validateRecord(r, 'Update', { [relation]: ids });
    const rows = authorize(this.#policy, ctx, r.resource, 'update');
    await this.#execute.setLinks(r, key, relation, input.links.get(relation) ?? [], this.#writeAccess(ctx, r, rows, TRUE), options);
    await this.#announce(options.tx, r, 'updated', [{ id: key }]);
  }

  /**
   * Runs `fn` in a new transaction; pass its `tx` to operations in `options.tx` to share it. The
   * after-hooks of the writes made in it run once it committed.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (!this.#hooks.queuesAfterCommit && !this.#events && !this.#changes) return this.#execute.transaction(fn);
    return this.#hooks.withQueue((inner) => this.#execute.transaction(inner), fn);
  }

  async #update(ctx: RequestContext, resource: string, id: unknown, body: unknown, options: WriteOptions, replace: boolean): Promise<Row> {
    const r = this.#compiled.of(resource);
    wrote(ctx);
    await this.#rateLimit(ctx, replace ? 'replace' : 'update', r);
    const key = validateId(r, id);
    const variant = replace ? 'Replace' : 'Update';
    const fields = this.#fieldsOf(ctx.principal)(r.resource);
    const input = validateRecord(r, variant, body, fields?.unwritable);
    const rows = authorize(this.#policy, ctx, r.resource, 'update');
    refuseUnwritable(fields, [input], false);
    const access = this.#writeAccess(ctx, r, rows, rows, fields, replace);
    const hooks = this.#hooks.of(r);
    if (!hooks) {
      const row = await this.#guard(ctx, r, this.#execute.update(r, key, input, access, { ...options, replace }));
      await this.#announce(options.tx, r, 'updated', [{ id: key }]);
      return row;
    }
    const update = async (tx?: Queryable) => {
      let changed = input;
      if (tx && hooks.beforeUpdate) {
        await this.#execute.lockTarget(tx, r, key, rows, options.ifMatch, access.view);
        changed = await this.#hooks.beforeWrite(r, 'beforeUpdate', variant, input, { ctx, tx, ops: bindOperations(this, tx), id: key });
      }
      const row = await this.#guard(ctx, r, this.#execute.update(r, key, changed, access, { ...options, replace, tx }));
      await this.#announce(tx, r, 'updated', [{ id: key }]);
      if (hooks.afterUpdate) await this.#hooks.afterCommit(tx, () => this.#hooks.after(r, 'afterUpdate', ctx, row));
      return row;
    };
    return this.#hookedWrite(hooks.beforeUpdate !== undefined, options, update);
  }

  /** A create (one record or many) of a resource with hooks: before-hooks in the write's transaction, after-hooks once it committed. */
  #hookedCreate<R, T>(
    ctx: RequestContext,
    r: CompiledResource,
    hooks: ResourceHooks,
    inputs: readonly WriteInput[],
    access: WriteAccess,
    options: WriteOptions & Around<R, T>,
    result: (rows: Row[]) => R,
  ): Promise<T> {
    const create = async (tx?: Queryable): Promise<R> => {
      let changed = inputs;
      if (tx && hooks.beforeCreate) {
        const ops = bindOperations(this, tx);
        const outputs: WriteInput[] = [];
        changed = outputs;
        for (const input of inputs) outputs.push(await this.#hooks.beforeWrite(r, 'beforeCreate', 'Create', input, { ctx, tx, ops }));
      }
      const rows = await this.#guard(ctx, r, this.#execute.create(r, changed, access, { ...options, tx }));
      await this.#announce(tx, r, 'created', rows);
      if (hooks.afterCreate)
        await this.#hooks.afterCommit(tx, async () => {
          for (const row of rows) await this.#hooks.after(r, 'afterCreate', ctx, row);
        });
      return result(rows);
    };
    if (options.around) return options.around(create);
    return this.#hookedWrite(hooks.beforeCreate !== undefined, options, create) as Promise<unknown> as Promise<T>;
  }

  /**
   * Runs a write of a resource with hooks: in the caller's transaction, or, when it has before-hooks,
   * in one of its own (their queries commit or roll back with the write). Without before-hooks it
   * runs as any write, and its after-hooks right after it.
   */
  #hookedWrite<R>(transactional: boolean, options: WriteOptions, write: (tx?: Queryable) => Promise<R>): Promise<R> {
    if (options.tx) return write(options.tx);
    return transactional ? this.transaction(write) : write();
  }

  /**
   * Publishes the change events of a write: at once when it committed already, or once the
   * transaction the operations opened for it (ops.transaction, a hooked write) commits; nothing when it
   * rolls back. In a transaction opened elsewhere, at once: its commit cannot be seen from here.
   */
  async #announce(tx: Queryable | undefined, r: CompiledResource, type: ChangeType, rows: readonly Row[], snapshot?: string): Promise<void> {
    const events = this.#events;
    const changes = this.#changes;
    if (!events && !changes) return;
    const resource = r.resource.name;
    await this.#hooks.afterCommit(tx, async () => {
      await changes?.changed(resource, type);
      if (events) for (const row of rows) events.publish({ resource, type, id: row.id as string | number, ...(snapshot !== undefined && { snapshot }) });
    });
  }

  /** A deletion's events: the record's, then those of the rows its foreign keys' ON DELETE actions removed or changed. */
  async #announceDelete(tx: Queryable | undefined, r: CompiledResource, id: unknown, deleted: Deleted): Promise<void> {
    const events = this.#events;
    const changes = this.#changes;
    if (!events && !changes) return;
    await this.#hooks.afterCommit(tx, async () => {
      await changes?.changed(r.resource.name, 'deleted');
      if (!events) return;
      events.publish({
        resource: r.resource.name,
        type: 'deleted',
        id: id as string | number,
        ...(deleted.snapshot !== undefined && { snapshot: deleted.snapshot }),
      });
      // The statement answers ids as text; an event names a record by the id its own DELETE would have.
      for (const change of deleted.cascaded) events.publish({ ...change, id: validateId(this.#compiled.of(change.resource), change.id) as string | number });
    });
  }

  /**
   * Where a read outside a transaction goes: a read replica while the request has not written
   * (DATABASE_REPLICA_URLS); the primary (undefined: the executor's own database) otherwise, and when
   * the context does not track its writes.
   */
  #replicaFor(ctx: RequestContext): Queryable | undefined {
    return ctx.consistency?.wrote === false ? this.#execute.db.replicas : undefined;
  }

  /** `args` and `items`: what a cost-aware limiter weighs (src/ratelimit/cost.ts). */
  #rateLimit(ctx: RequestContext, operation: OperationName, r: CompiledResource, args?: SelectionArgs, items?: number): void | Promise<void> {
    if (this.#limiters.length === 0) return;
    return rateLimit(this.#limiters, { ctx, operation, resource: r.resource.name, args, items });
  }

  #scopeOf(ctx: RequestContext): ScopeOf {
    if (this.#policy === OPEN_ACCESS) return NOTHING_HIDDEN;
    return (resource) => {
      const rows = readableRows(this.#policy, ctx, resource);
      return isTrue(rows) ? undefined : rows;
    };
  }

  #access(ctx: RequestContext, rows: Predicate, fields: FieldsOf): Access {
    if (this.#policy === OPEN_ACCESS) return EVERY_ROW;
    if (fields === NO_FIELD_LIMITS) return { rows, scopeOf: this.#scopeOf(ctx) };
    return { rows, scopeOf: this.#scopeOf(ctx), shownOf: (resource) => shownWhere(fields(resource)) };
  }

  /** Each included resource is read under its own read rule and its own field rules. */
  #includeAccess(ctx: RequestContext, fields: FieldsOf): (node: IncludeNode) => Access {
    if (this.#policy === OPEN_ACCESS) return EVERY_INCLUDED_ROW;
    const scopeOf = this.#scopeOf(ctx);
    if (fields === NO_FIELD_LIMITS) return (node) => ({ rows: scopeOf(node.target) ?? TRUE, scopeOf });
    const shownOf = (resource: Resource) => shownWhere(fields(resource));
    return (node) => ({ rows: scopeOf(node.target) ?? TRUE, scopeOf, shownOf });
  }

  /**
   * `rows`: what an update or delete may touch; `rule`: what the rows it produces must meet; `fields`:
   * the caller's field rules on the resource (what the answer shows, what a replace keeps).
   */
  #writeAccess(ctx: RequestContext, r: CompiledResource, rows: Predicate, rule: Predicate, fields?: FieldAccess, replace = false): WriteAccess {
    if (this.#policy === OPEN_ACCESS) return { rows, checks: NO_CHECKS, scopeOf: NOTHING_HIDDEN };
    const scopeOf = this.#scopeOf(ctx);
    const access: WriteAccess = { rows, checks: { rule, references: hiddenReferences(r.resource, scopeOf, this.#compiled) }, scopeOf };
    if (!fields) return access;
    const view = viewOf(r, fields);
    return { ...access, ...(view && { view }), ...(replace && fields.unwritable.size > 0 && { kept: fields.unwritable }) };
  }

  /**
   * Under an access rule, a unique violation must not confirm that a record the caller cannot see
   * holds the value: the answer says the value cannot be used, not that another record has it.
   */
  async #guard<T>(ctx: RequestContext, r: CompiledResource, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (error) {
      if (!(error instanceof KilnError) || error.code !== 'KILN_UNIQUE_VIOLATION' || isTrue(readableRows(this.#policy, ctx, r.resource))) throw error;
      throw new KilnError('KILN_UNIQUE_VIOLATION', {
        detail: 'a value cannot be used because it must be unique; choose another',
        errors: (error.errors ?? []).map((e) => ({ ...e, message: 'this value cannot be used; choose another' })),
      });
    }
  }
}

/** From now on the request reads from the primary: it reads its own writes (see RequestContext.consistency). */
function wrote(ctx: RequestContext): void {
  if (ctx.consistency) ctx.consistency.wrote = true;
}

/** belongsTo relations whose target the caller cannot see in full: their keys are checked on written rows. */
function hiddenReferences(resource: Resource, scopeOf: ScopeOf, compiled: CompiledModel): RowChecks['references'] {
  return resource.relations.flatMap((relation) => {
    if (relation.kind !== 'belongsTo') return [];
    const target = compiled.of(relation.target).resource;
    const visible = scopeOf(target);
    return visible ? [{ relation, target, visible }] : [];
  });
}
