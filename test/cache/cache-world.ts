/**
 * The model, callers and probes of the response cache suites. Posts are readable by anyone once
 * published, by their author and by editors before; their `draftNote` only editors read. A post has
 * an author (ON DELETE CASCADE), maybe a reviewer (ON DELETE SET NULL), tags (manyToMany) and
 * comments (ON DELETE CASCADE from the post). Notes are never cached (`cache: false`).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import type { TestResponse, TestServer } from '../helpers/server.js';

const OPEN = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

export function cacheDeclaration(): Record<string, unknown> & { resources: Record<string, Record<string, unknown>> } {
  return {
    roles: { editor: {} },
    resources: {
      authors: { access: OPEN, fields: { name: { type: 'string', maxLength: 100 } } },
      posts: {
        access: { read: "published == true || authorId == auth.id || auth.roles has 'editor'", create: 'public', update: 'public', delete: 'public' },
        fields: {
          title: { type: 'string', maxLength: 200 },
          published: { type: 'boolean', default: false },
          draftNote: { type: 'string', nullable: true, read: ['editor'] },
          author: { type: 'belongsTo', target: 'authors', onDelete: 'cascade' },
          reviewer: { type: 'belongsTo', target: 'authors', nullable: true, onDelete: 'setNull' },
          tags: { type: 'manyToMany', target: 'tags' },
          comments: { type: 'hasMany', target: 'comments', inverse: 'post' },
        },
      },
      comments: { access: OPEN, fields: { body: { type: 'string', maxLength: 200 }, post: { type: 'belongsTo', target: 'posts', onDelete: 'cascade' } } },
      tags: { access: OPEN, fields: { name: { type: 'string', maxLength: 50 }, posts: { type: 'manyToMany', target: 'posts' } } },
      notes: { access: OPEN, cache: false, fields: { text: { type: 'string', maxLength: 100 } } },
    },
  };
}

export function cacheModel(): Model {
  return compileOrThrow('response cache test model', cacheDeclaration());
}

/** `x-user: 7` is account 7; `x-roles: editor` adds roles. Tests only. */
export const headerCaller: Authenticator = ({ headers }) => {
  const id = headers['x-user'];
  if (typeof id !== 'string') return undefined;
  const roles = typeof headers['x-roles'] === 'string' ? headers['x-roles'].split(',') : [];
  return { kind: 'account', id: Number(id), roles: ['authenticated', ...roles] };
};

export const asUser = (id: number, roles: readonly string[] = []): Record<string, string> => ({
  'x-user': String(id),
  ...(roles.length > 0 && { 'x-roles': roles.join(',') }),
});

/** The statements the database ran while `request` was answered. */
export async function statementsOf<T>(server: TestServer, request: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const stop = server.db.observe((text) => statements.push(text));
  try {
    return { result: await request(), statements };
  } finally {
    stop();
  }
}

export async function created(server: TestServer, path: string, json: unknown): Promise<{ id: number } & Record<string, unknown>> {
  const res = await server.fetch(path, { method: 'POST', json });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()).data;
}

/** A GET with its body and X-Cache. */
export async function read(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; cache: string | null; etag: string | null; body: any; res: TestResponse }> {
  const res = await server.fetch(path, { headers });
  const text = await res.text();
  return { status: res.status, cache: res.headers.get('x-cache'), etag: res.headers.get('etag'), body: text ? JSON.parse(text) : undefined, res };
}

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis key prefix of this run alone. */
export function redisPrefix(name: string): string {
  return `kiln-test-cache-${name}-${randomBytes(4).toString('hex')}:`;
}

/** Deletes the keys under `prefix` (a suite's cleanup). */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
