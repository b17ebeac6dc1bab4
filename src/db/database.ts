import type { ReplicaReads } from './replicas.js';

/** What the rest of Kiln needs from a database: parameterised queries and transactions. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<R[]>;
}

export type QueryListener = (text: string) => void;

/**
 * Told of each statement once it has ended, successfully or not, with how long it took (KILN_LOG_SQL).
 * An object rather than a function, so `observe` can tell it from a QueryListener.
 */
export interface StatementListener {
  statement(text: string, values: readonly unknown[] | undefined, durationMs: number): void;
}

/** Called with the error of a pooled connection that failed while no statement was using it. */
export type ConnectionErrorListener = (error: Error) => void;

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Read replicas (DATABASE_REPLICA_URLS), when there are any: where a read outside a transaction may
   * go, if the request has not written (src/db/replicas.ts). Everything else on this object is the primary.
   */
  readonly replicas?: ReplicaReads;
  /**
   * Connections come from a pooler in transaction mode (KILN_DB_POOLER): a server connection is ours
   * only inside a transaction, so nothing may rely on session state between transactions.
   */
  readonly transactionPooled?: boolean;
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * Registers a listener called with the text of every statement sent, or (a StatementListener) with
   * each statement once it has ended and its duration; returns the remover.
   */
  observe(listener: QueryListener | StatementListener): () => void;
  /**
   * Registers a listener for connections that fail while idle (the server restarted or closed them).
   * The driver drops such a connection and opens another when needed, and no request sees the error,
   * so a log is the only place it can show; returns the remover.
   */
  onConnectionError(listener: ConnectionErrorListener): () => void;
  /** The connection pool, on a driver that has one (PostgreSQL); PGlite runs in the process and has none. */
  readonly pool?: ConnectionPool;
  close(): Promise<void>;
}

/** What a pool tells of itself, for the metrics (GET /metrics) and load shedding. */
export interface ConnectionPool {
  /** The most connections it opens (KILN_DB_POOL_MAX). */
  readonly max: number;
  /** Connections open, busy or idle. */
  readonly total: number;
  readonly idle: number;
  /** Checkouts (statements, transactions) waiting for a connection. */
  readonly waiting: number;
  /** Registers a listener told how long each checkout waited for its connection, in ms; returns the remover. */
  observeWait(listener: (waitedMs: number) => void): () => void;
  /** How long the checkout at the head of the queue has waited so far, in ms (0: none waits); measured only while a wait listener is registered. */
  readonly oldestWaitMs: number;
}

/**
 * Notifies listeners; kept out of the hot path when nobody listens. A driver calls `begin` before a
 * statement and, when it returned a start time, `end` after it (in a `finally`): statements are timed
 * only while a StatementListener is registered, so without one there is no clock read and no closure.
 */
export class QueryObservers {
  readonly #listeners = new Set<QueryListener>();
  readonly #statements = new Set<StatementListener>();

  add(listener: QueryListener | StatementListener): () => void {
    if (typeof listener === 'function') {
      this.#listeners.add(listener);
      return () => this.#listeners.delete(listener);
    }
    this.#statements.add(listener);
    return () => this.#statements.delete(listener);
  }

  notify(text: string): void {
    if (this.#listeners.size === 0) return;
    for (const listener of this.#listeners) listener(text);
  }

  /** Notifies the text listeners; returns the start time when the statement is to be timed. */
  begin(text: string): number | undefined {
    this.notify(text);
    return this.#statements.size === 0 ? undefined : performance.now();
  }

  /** The statement begun at `started` has ended, successfully or not. */
  end(started: number, text: string, values: readonly unknown[] | undefined): void {
    const durationMs = performance.now() - started;
    for (const listener of this.#statements) listener.statement(text, values, durationMs);
  }
}
