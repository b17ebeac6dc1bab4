/** What the rest of Kiln needs from a database: parameterised queries and transactions. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<R[]>;
}

export type QueryListener = (text: string) => void;

/** Called with the error of a pooled connection that failed while no statement was using it. */
export type ConnectionErrorListener = (error: Error) => void;

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Registers a listener called with the text of every statement sent; returns the remover. */
  observe(listener: QueryListener): () => void;
  /**
   * Registers a listener for connections that fail while idle (the server restarted or closed them).
   * The driver drops such a connection and opens another when needed, and no request sees the error,
   * so a log is the only place it can show; returns the remover.
   */
  onConnectionError(listener: ConnectionErrorListener): () => void;
  close(): Promise<void>;
}

/** Notifies listeners; kept out of the hot path when nobody listens. */
export class QueryObservers {
  readonly #listeners = new Set<QueryListener>();

  add(listener: QueryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(text: string): void {
    if (this.#listeners.size === 0) return;
    for (const listener of this.#listeners) listener(text);
  }
}
