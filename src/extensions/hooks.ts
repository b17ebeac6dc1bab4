/**
 * Runs a resource's lifecycle hooks for the operations (src/core/operations.ts). Before-hooks run in
 * the write's transaction and may change its input or refuse it; their output is validated again
 * (hook-input.ts). After-hooks run once the transaction committed, and their failure is logged, never
 * answered. A hook that throws anything but a KilnError is a bug of the app: 500 KILN_INTERNAL, with
 * the cause in the log under the request id.
 */
import type { CompiledResource } from '../core/compiled-model.js';
import type { DatabaseErrorMapper } from '../core/database-errors.js';
import { KilnError } from '../core/errors.js';
import type { Variant, WriteInput } from '../core/input.js';
import type { Row } from '../core/query.js';
import type { Queryable } from '../db/database.js';
import type { Model } from '../model/ir.js';
import type { RequestContext } from '../pipeline/context.js';
import { HookInputs, HookOutputError } from './hook-input.js';
import type { HookName, ResourceHooks, TransactionOperations } from './types.js';

const INTERNAL_DETAIL = 'an unexpected error occurred; the server log has the cause under this request id';

/** Work to do once a transaction commits; dropped when it rolls back. */
type AfterCommit = () => Promise<void>;

export class HookRunner {
  readonly #hooks: ReadonlyMap<string, ResourceHooks>;
  readonly #inputs = new HookInputs();
  /** The after-commit queue of each transaction the operations opened while after-hooks exist. */
  readonly #pending = new WeakMap<Queryable, AfterCommit[]>();
  /** Whether any resource has an after-hook: only then do transactions keep a queue. */
  readonly queuesAfterCommit: boolean;

  /** A hook's own queries fail like any other statement: a lost connection is 503, a timeout 503, a duplicate 409. */
  readonly #databaseErrors: DatabaseErrorMapper;

  constructor(model: Model, databaseErrors: DatabaseErrorMapper) {
    this.#databaseErrors = databaseErrors;
    this.#hooks = model.extensions?.hooks ?? new Map();
    this.queuesAfterCommit = [...this.#hooks.values()].some((h) => h.afterCreate || h.afterUpdate || h.afterDelete);
  }

  /** The hooks of a resource; undefined for one without (every resource of a model without hooks). */
  of(r: CompiledResource): ResourceHooks | undefined {
    return this.#hooks.size === 0 ? undefined : this.#hooks.get(r.resource.name);
  }

  /** Runs `fn` in `open`'s transaction, then the after-commit work it queued (in order) once that committed. */
  async withQueue<T>(open: (fn: (tx: Queryable) => Promise<T>) => Promise<T>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const queue: AfterCommit[] = [];
    const result = await open((tx) => {
      this.#pending.set(tx, queue);
      return fn(tx);
    });
    for (const job of queue) await job();
    return result;
  }

  /** After-commit work of a write in `tx`: queued when the operations opened `tx`, otherwise (no or a foreign transaction) run now. */
  async afterCommit(tx: Queryable | undefined, job: AfterCommit): Promise<void> {
    const queue = tx && this.#pending.get(tx);
    if (queue) queue.push(job);
    else await job();
  }

  /** A before-create or before-update hook: its output, validated as a write of `variant`. */
  async beforeWrite(
    r: CompiledResource,
    name: 'beforeCreate' | 'beforeUpdate',
    variant: Variant,
    input: WriteInput,
    args: { ctx: RequestContext; tx: Queryable; ops: TransactionOperations; id?: unknown },
  ): Promise<WriteInput> {
    const hook = this.#hooks.get(r.resource.name)?.[name] as ((a: object) => unknown) | undefined;
    if (!hook) return input;
    const view = HookInputs.view(input, args.id === undefined ? undefined : { id: args.id });
    const extra = name === 'beforeUpdate' ? { replace: variant === 'Replace' } : {};
    const output = await this.#call(r, name, args.ctx, () => hook({ input: view, ctx: args.ctx, tx: args.tx, ops: args.ops, ...extra }));
    try {
      return this.#inputs.parse(r, variant, output ?? view, args.ctx.limits, args.id);
    } catch (error) {
      if (!(error instanceof HookOutputError)) throw error;
      throw this.#fault(r, name, args.ctx, error);
    }
  }

  /** A before-delete hook: it may only refuse. */
  async beforeDelete(r: CompiledResource, id: unknown, args: { ctx: RequestContext; tx: Queryable; ops: TransactionOperations }): Promise<void> {
    const hook = this.#hooks.get(r.resource.name)?.beforeDelete as ((a: object) => unknown) | undefined;
    if (hook) await this.#call(r, 'beforeDelete', args.ctx, () => hook({ input: { id }, ...args }));
  }

  /** An after-hook: it gets its own copy of the row, so it cannot change the answer; a failure is logged. */
  async after(r: CompiledResource, name: 'afterCreate' | 'afterUpdate' | 'afterDelete', ctx: RequestContext, row: Row): Promise<void> {
    const hook = this.#hooks.get(r.resource.name)?.[name] as ((a: object) => unknown) | undefined;
    if (!hook) return;
    try {
      await hook(name === 'afterDelete' ? { id: row.id, ctx } : { row: structuredClone(row), ctx });
    } catch (error) {
      ctx.log.error(
        { err: error, hook: `${r.resource.name}.${name}`, requestId: ctx.requestId },
        'after-hook failed; the write stands and the answer is unchanged',
      );
    }
  }

  /**
   * afterRead on each row read, in place: a hook may change values or hand back another object, but
   * not add fields: a field the client did not select (`?fields=`) or may not read is not in the row,
   * and stays out of the answer whatever the hook sets.
   */
  async afterRead(r: CompiledResource, ctx: RequestContext, rows: Row[]): Promise<void> {
    const hook = this.#hooks.get(r.resource.name)?.afterRead as ((a: object) => unknown) | undefined;
    if (!hook) return;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      const selected = new Set(Object.keys(row));
      const out = await this.#call(r, 'afterRead', ctx, () => hook({ row, ctx }));
      const result = typeof out === 'object' && out !== null ? (out as Row) : row;
      for (const key of Object.keys(result)) if (!selected.has(key)) delete result[key];
      rows[i] = result;
    }
  }

  /** Calls a hook: a KilnError it throws is its answer; anything else is a fault of the app. */
  async #call(r: CompiledResource, name: HookName, ctx: RequestContext, call: () => unknown): Promise<unknown> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof KilnError) throw error;
      throw this.#databaseErrors.map(error) ?? this.#fault(r, name, ctx, error);
    }
  }

  #fault(r: CompiledResource, name: HookName, ctx: RequestContext, cause: unknown): KilnError {
    const hook = `${r.resource.name}.${name}`;
    ctx.log.error({ err: cause, hook, requestId: ctx.requestId }, `hook ${hook} failed`);
    return new KilnError('KILN_INTERNAL', { detail: INTERNAL_DETAIL, cause });
  }
}
