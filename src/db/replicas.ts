/**
 * Read replicas (DATABASE_REPLICA_URLS): reads that may be served a little behind the primary go to a
 * streaming replica, round-robin among those that are up and, with DATABASE_REPLICA_MAX_LAG_MS, not too
 * far behind. Everything else (writes, transactions, a request's reads after its own write) never
 * comes here: it uses the primary Database itself (src/core/operations.ts decides).
 *
 * Each read is one statement on a pooled connection, with no session state carried from one statement
 * to the next, so replicas behind PgBouncer in transaction mode work as well as direct connections.
 */
import { isConnectionFailure } from './connection-errors.js';
import type { Database, Queryable } from './database.js';

/** How long a replica that failed is left alone before a read tries it again. */
export const REPLICA_RETRY_MS = 5000;
/** How often replication lag is measured when DATABASE_REPLICA_MAX_LAG_MS is set. */
export const REPLICA_LAG_PROBE_MS = 1000;

/**
 * How far behind a replica is, in milliseconds: 0 when it has replayed all it received (an idle
 * primary sends nothing, so the time of the last replayed commit says nothing then); otherwise the age
 * of the last commit it replayed, or Infinity when it has replayed none since it started.
 */
const LAG_SQL = `SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
  ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 'Infinity') END::float8 AS lag_ms`;

export type ReplicaState = 'up' | 'down' | 'lagging';

export interface ReplicaChange {
  /** `host:port/database` of the replica; never its password. */
  readonly replica: string;
  readonly state: ReplicaState;
  /** Why it went down (the driver's error), or how far behind it is (lagging). */
  readonly error?: unknown;
  readonly lagMs?: number;
}

export type ReplicaListener = (change: ReplicaChange) => void;

export interface ReplicaOptions {
  /** Replicas further behind than this serve no reads; 0: lag is not measured. */
  readonly maxLagMs: number;
  /** Replicas (by index) that could not be reached at start, with the error: they start down. */
  readonly startDown?: ReadonlyMap<number, unknown>;
  readonly now?: () => number;
}

interface Replica {
  readonly label: string;
  readonly db: Database;
  state: ReplicaState;
  /** While down: when a read may try it again. */
  retryAt: number;
  /** While down: why. */
  error?: unknown;
}

/**
 * The read side of a primary with replicas. `query` runs a read on the next usable replica; when
 * none is usable, or the replica's connection fails, on the primary (and a failed replica is left
 * alone for REPLICA_RETRY_MS, then tried again by one read).
 */
export class ReplicaReads implements Queryable {
  readonly #primary: Queryable;
  readonly #replicas: readonly Replica[];
  readonly #maxLagMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<ReplicaListener>();
  #next = 0;
  #probe: NodeJS.Timeout | undefined;

  constructor(primary: Queryable, replicas: readonly { readonly label: string; readonly db: Database }[], options: ReplicaOptions) {
    this.#primary = primary;
    this.#now = options.now ?? Date.now;
    const down = options.startDown ?? new Map<number, unknown>();
    this.#replicas = replicas.map(({ label, db }, i) =>
      down.has(i) ? { label, db, state: 'down', retryAt: this.#now() + REPLICA_RETRY_MS, error: down.get(i) } : { label, db, state: 'up', retryAt: 0 },
    );
    this.#maxLagMs = options.maxLagMs;
    if (this.#maxLagMs > 0) {
      let probing = false;
      this.#probe = setInterval(() => {
        // A probe still waiting on a replica (up to its 2 s timeout) is not joined by another.
        if (probing) return;
        probing = true;
        void this.check().finally(() => {
          probing = false;
        });
      }, REPLICA_LAG_PROBE_MS);
      // Measuring lag must not keep a stopping process alive.
      this.#probe.unref();
    }
  }

  /** Each replica's `host:port/database` and state, in the order DATABASE_REPLICA_URLS lists them. */
  get states(): readonly { readonly replica: string; readonly state: ReplicaState }[] {
    return this.#replicas.map((r) => ({ replica: r.label, state: r.state }));
  }

  /**
   * Told when a replica goes down, comes back, or starts or stops lagging, and at once of each replica
   * down already (one that could not be reached at start); returns the remover.
   */
  onChange(listener: ReplicaListener): () => void {
    for (const r of this.#replicas) if (r.state === 'down') listener({ replica: r.label, state: 'down', error: r.error });
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<R[]> {
    const replica = this.#pick();
    if (!replica) return this.#primary.query<R>(text, values);
    try {
      const rows = await replica.db.query<R>(text, values);
      if (replica.state === 'down') this.#set(replica, 'up');
      return rows;
    } catch (error) {
      if (isConnectionFailure(error) || refusedAtConnect(error)) this.#down(replica, error);
      // Hot standby cancels a read whose rows replay must remove (SQLSTATE 40001, "conflict with
      // recovery"); the primary has no such conflict. Any other error is the statement's own and
      // would fail the same way on the primary.
      else if (!isRecoveryConflict(error)) throw error;
      return this.#primary.query<R>(text, values);
    }
  }

  /**
   * Asks every replica afresh (SELECT 1, or its lag when DATABASE_REPLICA_MAX_LAG_MS is set) and
   * records the answer: /readyz calls it, and so does the lag probe.
   */
  async check(timeoutMs = 2000): Promise<readonly { readonly replica: string; readonly state: ReplicaState }[]> {
    await Promise.all(this.#replicas.map((replica) => this.#checkOne(replica, timeoutMs)));
    return this.states;
  }

  /** Stops the lag probe and closes the replicas' pools (not the primary's). */
  async close(): Promise<void> {
    clearInterval(this.#probe);
    await Promise.all(this.#replicas.map((r) => r.db.close().catch(() => {})));
  }

  async #checkOne(replica: Replica, timeoutMs: number): Promise<void> {
    try {
      if (this.#maxLagMs === 0) {
        await withTimeout(replica.db.query('SELECT 1'), timeoutMs);
        if (replica.state !== 'up') this.#set(replica, 'up');
        return;
      }
      const [row] = await withTimeout(replica.db.query<{ lag_ms: number }>(LAG_SQL), timeoutMs);
      const lagMs = Number(row?.lag_ms ?? 0);
      const state = lagMs > this.#maxLagMs ? 'lagging' : 'up';
      if (replica.state !== state) this.#set(replica, state, { lagMs });
    } catch (error) {
      this.#down(replica, error);
    }
  }

  /** The next usable replica, round-robin; undefined when none is. */
  #pick(): Replica | undefined {
    const count = this.#replicas.length;
    for (let i = 0; i < count; i++) {
      const replica = this.#replicas[(this.#next + i) % count] as Replica;
      if (replica.state === 'lagging') continue;
      if (replica.state === 'down') {
        const now = this.#now();
        if (now < replica.retryAt) continue;
        // One read tries it again; the others keep away until this one has answered or failed.
        replica.retryAt = now + REPLICA_RETRY_MS;
      }
      this.#next = (this.#next + i + 1) % count;
      return replica;
    }
    return undefined;
  }

  #down(replica: Replica, error: unknown): void {
    replica.retryAt = this.#now() + REPLICA_RETRY_MS;
    replica.error = error;
    if (replica.state !== 'down') this.#set(replica, 'down', { error });
  }

  #set(replica: Replica, state: ReplicaState, details: { error?: unknown; lagMs?: number } = {}): void {
    replica.state = state;
    if (state !== 'down') replica.error = undefined;
    for (const listener of this.#listeners) listener({ replica: replica.label, state, ...details });
  }
}

/**
 * Errors a server answers a new connection with rather than a statement: a wrong password or role
 * (class 28), or a database that does not exist (3D000). A replica answering them cannot serve reads, whatever the statement.
 */
function refusedAtConnect(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('28') || code === '3D000');
}

function isRecoveryConflict(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '40001';
}

/** `host:port/database` of a PostgreSQL URL, for logs and /readyz: never the user or password. */
export function replicaLabel(url: string, index: number): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (decodeURIComponent(u.hostname) || 'localhost');
    return `${host}:${u.searchParams.get('port') ?? (u.port || '5432')}/${decodeURIComponent(u.pathname.slice(1))}`;
  } catch {
    return `replica ${index + 1}`;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
