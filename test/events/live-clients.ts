/**
 * What the change-event suites share: a graphql-ws subscriber whose results a test awaits one at a
 * time, a way to wait until a server holds its subscriptions (an event published before that would
 * be lost, and a test waiting for it would hang), and a second Kiln on the same database.
 */
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Settings } from '../../src/config/settings.js';
import { resolveSettings } from '../../src/config/settings.js';
import type { Database } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import type { Model } from '../../src/model/ir.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { type Backend, TEST_DATABASE_URL, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';

/** Resolves once `condition` holds, checking every 10 ms; the test's own timeout bounds the wait. */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}

export interface Received {
  readonly data?: any;
  readonly errors?: any[];
}

/** One subscription's results in arrival order; `next` waits for the next one. */
export class Subscription {
  readonly #queue: Received[] = [];
  readonly #waiting: ((value: Received | 'complete') => void)[] = [];
  #complete = false;
  readonly dispose: () => void;

  constructor(client: Client, query: string, variables?: Record<string, unknown>) {
    this.dispose = client.subscribe(
      { query, ...(variables && { variables }) },
      {
        next: (value) => this.#push(value as Received),
        error: (error) => this.#push({ errors: Array.isArray(error) ? error : [String(error)] }),
        complete: () => {
          this.#complete = true;
          for (const wake of this.#waiting.splice(0)) wake('complete');
        },
      },
    );
  }

  /** The next result, or 'complete' once the server completed the subscription. */
  next(): Promise<Received | 'complete'> {
    const value = this.#queue.shift();
    if (value) return Promise.resolve(value);
    if (this.#complete) return Promise.resolve('complete');
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #push(value: Received): void {
    const wake = this.#waiting.shift();
    if (wake) wake(value);
    else this.#queue.push(value);
  }
}

/** How a client's socket closed. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/**
 * A graphql-ws client of the server at `url`, connected at once: `connectionParams` as a browser
 * sends credentials, `headers` on the upgrade request as other clients do. `closed` resolves when its
 * socket closes.
 */
export function wsClient(url: string, connectionParams?: Record<string, unknown>, headers: Record<string, string> = {}): Client & { closed: Promise<Closed> } {
  let onClosed: (closed: Closed) => void = () => {};
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  class HeaderSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: HeaderSocket,
    lazy: false,
    retryAttempts: 0,
    ...(connectionParams && { connectionParams }),
    onNonLazyError: () => {},
    on: { closed: (event) => onClosed({ code: (event as { code: number }).code, reason: String((event as { reason: unknown }).reason) }) },
  });
  return Object.assign(client, { closed });
}

/** Subscribes and waits until the server holds one more subscription than before. */
export async function subscribed(server: { kiln: RunningKiln }, client: Client, query: string, variables?: Record<string, unknown>): Promise<Subscription> {
  const before = server.kiln.events.size;
  const subscription = new Subscription(client, query, variables);
  await until(() => server.kiln.events.size > before);
  return subscription;
}

/** Ends subscriptions and waits until the server let go of them, so the next `subscribed` counts from a settled number. */
export async function unsubscribe(server: { kiln: RunningKiln }, ...subscriptions: Subscription[]): Promise<void> {
  const target = server.kiln.events.size - subscriptions.length;
  for (const subscription of subscriptions) subscription.dispose();
  await until(() => server.kiln.events.size <= target);
}

/**
 * Another Kiln on the database of `first` (its PostgreSQL schema, or the same PGlite): two instances
 * of one application, as behind a load balancer.
 */
export async function secondInstance(
  first: TestServer,
  model: Model,
  backend: Backend,
  overrides: Partial<Settings>,
): Promise<{ kiln: RunningKiln; close(): Promise<void> }> {
  const settings = {
    ...resolveSettings({}),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    authJwtSecret: TEST_JWT_SECRET,
    ...overrides,
    dbSchema: first.schema,
  };
  const db: Database =
    backend === 'pglite'
      ? first.db
      : openPostgres({ url: TEST_DATABASE_URL, schema: first.schema, poolMax: 3, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000 });
  const kiln = await startKiln({ model, settings, db });
  return {
    kiln,
    async close() {
      await kiln.close({ keepDatabase: true });
      if (backend !== 'pglite') await db.close();
    },
  };
}
