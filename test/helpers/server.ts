import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { resolveSettings, type Settings } from '../../src/config/settings.js';
import type { Database } from '../../src/db/database.js';
import { openPglite } from '../../src/db/pglite.js';
import { openPostgres } from '../../src/db/postgres.js';
import type { Model } from '../../src/model/ir.js';
import { type RunningKiln, type StartOptions, startKiln } from '../../src/start.js';
import { pgliteTemplate } from './pglite-template.js';

export type Backend = 'pglite' | 'postgres';

/** Backends the suites run on; KILN_TEST_BACKENDS narrows it (e.g. "pglite" without a local PostgreSQL). */
export const BACKENDS: Backend[] = (process.env.KILN_TEST_BACKENDS ?? 'pglite,postgres').split(',').map((b) => b.trim()) as Backend[];

/** The HS256 key test servers sign access tokens with, unless a test sets its own. */
export const TEST_JWT_SECRET = 'kiln-test-secret-that-is-long-enough-0123456789';

/** The key test processes sign cursors with (`kiln serve` on PostgreSQL requires one). */
export const TEST_CURSOR_SECRET = 'kiln-test-cursor-secret-0123456789abcdef';

/** KILN_RATE_LIMIT's default, which startTestServer turns off: for suites about the default itself. */
export const DEFAULT_RATE_LIMIT = resolveSettings({}).rateLimit;

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly db: Database;
  readonly schema: string;
  /** Drops the schema (PostgreSQL) and closes the connection. */
  dispose(): Promise<void>;
}

/**
 * A fresh, empty database: in-memory PGlite (loaded from the run's template, pglite-template.ts), or a
 * schema of its own on PostgreSQL so runs never collide.
 */
export async function createTestDatabase(backend: Backend, settings: Partial<Settings> = {}): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const db = await openPglite(undefined, { memoryTemplate: await pgliteTemplate() });
    return { db, schema: 'public', dispose: () => db.close().catch(() => {}) };
  }
  const schema = `kiln_test_${randomBytes(6).toString('hex')}`;
  const db = openPostgres({
    url: TEST_DATABASE_URL,
    schema,
    poolMax: settings.dbPoolMax ?? 5,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 10000,
    statementTimeoutMs: settings.dbStatementTimeoutMs ?? 10000,
  });
  await db.query(`CREATE SCHEMA "${schema}"`);
  return {
    db,
    schema,
    async dispose() {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await db.close().catch(() => {});
    },
  };
}

/** A fetch Response whose JSON body tests may navigate freely. */
export type TestResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface TestServer {
  readonly url: string;
  readonly api: string;
  readonly kiln: RunningKiln;
  readonly db: Database;
  /** The PostgreSQL schema of this server's tables ('public' on PGlite). */
  readonly schema: string;
  /** Every log line the server wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<TestResponse>;
  close(): Promise<void>;
}

/** Starts Kiln on a free port of 127.0.0.1 over a fresh database; talk to it over a real socket. */
export async function startTestServer(
  model: Model,
  backend: Backend,
  overrides: Partial<Settings> = {},
  seed?: string,
  extensions: Pick<StartOptions, 'authenticators' | 'rateLimiters' | 'access' | 'routes' | 'dev'> = {},
): Promise<TestServer> {
  // Many apps share one test process, whose synchronous work (PGlite's, Spectral's) delays every
  // app's event loop: shedding on that delay would refuse requests no load caused; and the suites run
  // two at a time, so statements can wait for a connection as under load. The suites of
  // load shedding set it themselves. Likewise the per-caller rate limit: a suite is one caller
  // sending hundreds of requests a minute; the rate-limit suites set their own limits.
  const settings = {
    ...resolveSettings({}),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'info',
    authJwtSecret: TEST_JWT_SECRET,
    shedEventLoopDelayMs: 0,
    shedPoolWaitMs: 0,
    rateLimit: 'off',
    ...overrides,
  };
  const test = await createTestDatabase(backend, settings);
  settings.dbSchema = test.schema;
  const logs: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const kiln = await startKiln({ model, settings, db: test.db, logStream, seedFile: seed, ...extensions });
  const url = kiln.url;
  return {
    url,
    api: `${url}${settings.apiPrefix}`,
    kiln,
    db: test.db,
    schema: test.schema,
    logs,
    fetch(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(`${url}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    async close() {
      await kiln.close({ keepDatabase: true });
      await test.dispose();
    },
  };
}
