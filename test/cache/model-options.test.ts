/**
 * The `cache` option of a resource is checked at load (a wrong value names the path and the fix);
 * what it and KILN_CACHE_TTL make of each resource; which resources a read depends on and a write
 * changes (cascades, SET NULL, links, rules); and `--workers` with a memory cache is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refuseCacheAcrossWorkers } from '../../src/cache/create-cache.js';
import { CacheDependencies } from '../../src/cache/dependencies.js';
import { cacheTtls } from '../../src/cache/response-cache.js';
import { StartupError } from '../../src/config/startup-error.js';
import { compileModel } from '../../src/model/compile.js';
import { compileOrThrow } from '../../src/model/load.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { TEST_CURSOR_SECRET, TEST_DATABASE_URL } from '../helpers/server.js';
import { cacheDeclaration, cacheModel } from './cache-world.js';

const HINT = 'write cache: false, cache: true, or cache: { ttl: 30 } (seconds)';

function problemsFor(cache: unknown) {
  const result = compileModel({ resources: { posts: { fields: { title: { type: 'string' } }, cache } } });
  assert.equal(result.ok, false, `cache: ${JSON.stringify(cache)} is refused`);
  return result.ok ? [] : [...result.problems];
}

describe('the cache option of a resource', () => {
  const cases: [unknown, string][] = [
    ['yes', 'cache must be true, false or { ttl }, not "yes"'],
    [30, 'cache must be true, false or { ttl }, not 30'],
    [{ ttl: -1 }, 'cache.ttl must be a whole number of seconds from 0 to 86400, not -1'],
    [{ ttl: 1.5 }, 'cache.ttl must be a whole number of seconds from 0 to 86400, not 1.5'],
    [{ ttl: 86401 }, 'cache.ttl must be a whole number of seconds from 0 to 86400, not 86401'],
    [{ ttl: '30' }, 'cache.ttl must be a whole number of seconds from 0 to 86400, not "30"'],
    [{}, 'cache.ttl must be a whole number of seconds from 0 to 86400, not nothing'],
    [{ ttl: 30, shared: true }, 'unknown cache option "shared"'],
  ];
  for (const [value, message] of cases) {
    test(`cache: ${JSON.stringify(value)} is refused: ${message}`, () => {
      assert.deepEqual(problemsFor(value), [{ path: 'resources.posts.cache', message, hint: HINT }]);
    });
  }

  test('KILN_CACHE_TTL for every resource; false and { ttl: 0 } turn it off, { ttl } sets its own', () => {
    const declaration = cacheDeclaration();
    const resources = declaration.resources;
    const model = compileOrThrow('cache options', {
      ...declaration,
      resources: {
        ...resources,
        tags: { ...resources.tags, cache: { ttl: 5 } },
        comments: { ...resources.comments, cache: { ttl: 0 } },
        authors: { ...resources.authors, cache: true },
      },
    });
    assert.deepEqual(Object.fromEntries(cacheTtls(model, 60)), { authors: 60, posts: 60, tags: 5 });
    assert.deepEqual(Object.fromEntries(cacheTtls(model, 0)), { tags: 5 }, 'a resource with its own ttl is cached even when KILN_CACHE_TTL is 0');
    assert.equal(model.resourcesByName.get('comments')?.cache, false);
  });

  test('the accounts resource is cached only when its own cache option asks for it', () => {
    const declaration = {
      auth: { accounts: { resource: 'users', login: 'email' } },
      resources: {
        users: { fields: { email: { type: 'string', format: 'email', maxLength: 254, unique: true } } },
        tags: { fields: { name: { type: 'string' } } },
      },
    };
    assert.deepEqual(Object.fromEntries(cacheTtls(compileOrThrow('accounts', declaration), 60)), { tags: 60 });
    const opted = { ...declaration, resources: { ...declaration.resources, users: { ...declaration.resources.users, cache: { ttl: 10 } } } };
    assert.deepEqual(Object.fromEntries(cacheTtls(compileOrThrow('accounts opted in', opted), 60)), { users: 10, tags: 60 });
  });
});

describe('what reads depend on and writes change', () => {
  const deps = new CacheDependencies(cacheModel());

  test('a delete reaches ON DELETE CASCADE (transitively), SET NULL and the ends of its links', () => {
    assert.deepEqual(deps.changedBy('authors', 'deleted'), ['authors', 'comments', 'posts', 'tags']);
    assert.deepEqual(deps.changedBy('posts', 'deleted'), ['comments', 'posts', 'tags']);
    assert.deepEqual(deps.changedBy('tags', 'deleted'), ['posts', 'tags']);
    assert.deepEqual(deps.changedBy('comments', 'deleted'), ['comments']);
  });

  test('a create or update changes its resource and the ends of its links', () => {
    assert.deepEqual(deps.changedBy('posts', 'updated'), ['posts', 'tags']);
    assert.deepEqual(deps.changedBy('authors', 'created'), ['authors']);
  });

  test('a read depends on what it includes and filters through, and on what the rules refer to', () => {
    assert.deepEqual(deps.ofRead('posts', undefined), ['posts']);
    assert.deepEqual(deps.ofRead('posts', { include: [{ relation: 'tags' }, { relation: 'comments' }] }), ['comments', 'posts', 'tags']);
    assert.deepEqual(deps.ofRead('posts', { filters: [{ path: ['author', 'name'], operator: 'eq', value: 'x' }] }), ['authors', 'posts']);
    assert.deepEqual(deps.ofRead('comments', { include: [{ relation: 'post', include: [{ relation: 'author' }] }] }), ['authors', 'comments', 'posts']);
    assert.equal(deps.readsCallerId, true, 'posts are read by `authorId == auth.id`');
    const rules = new CacheDependencies(
      compileOrThrow('rules through relations', {
        resources: {
          ...cacheDeclaration().resources,
          comments: {
            access: { read: 'post.published == true' },
            fields: { body: { type: 'string' }, post: { type: 'belongsTo', target: 'posts', onDelete: 'cascade' } },
          },
        },
        roles: { editor: {} },
      }),
    );
    assert.deepEqual(rules.ofRead('comments', undefined), ['comments', 'posts'], 'a rule through post depends on posts');
  });
});

describe('kiln serve --workers with the cache on', () => {
  const model = cacheModel();
  test('is refused without Redis, with what to do', () => {
    assert.throws(
      () => refuseCacheAcrossWorkers({ cacheTtl: 30, redisUrl: '', redisKeyPrefix: 'kiln:' }, model, 2),
      (error: unknown) =>
        error instanceof StartupError &&
        error.message ===
          "--workers 2 with the response cache on needs Redis (REDIS_URL): a worker's memory cache cannot hear of another worker's writes and would serve stale reads. Set REDIS_URL, set KILN_CACHE_TTL=0 and remove the resources' cache: { ttl }, or serve without --workers",
    );
  });
  test('is accepted with Redis, with one worker, or with the cache off', () => {
    refuseCacheAcrossWorkers({ cacheTtl: 30, redisUrl: 'redis://127.0.0.1:6379', redisKeyPrefix: 'kiln:' }, model, 2);
    refuseCacheAcrossWorkers({ cacheTtl: 30, redisUrl: '', redisKeyPrefix: 'kiln:' }, model, 1);
    refuseCacheAcrossWorkers({ cacheTtl: 0, redisUrl: '', redisKeyPrefix: 'kiln:' }, model, 4);
  });
});

describe('kiln serve --workers 2 with KILN_CACHE_TTL and no REDIS_URL', () => {
  test('exits 1 before starting any worker, saying what to do', async () => {
    const env = { DATABASE_URL: TEST_DATABASE_URL, KILN_CACHE_TTL: '30', KILN_CURSOR_SECRET: TEST_CURSOR_SECRET, REDIS_URL: '' };
    const run = await runCliProcess(['serve', '--model', BLOG_MODEL_PATH, '--workers', '2'], env);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr,
      "kiln serve: --workers 2 with the response cache on needs Redis (REDIS_URL): a worker's memory cache cannot hear of another worker's writes and would serve stale reads. Set REDIS_URL, set KILN_CACHE_TTL=0 and remove the resources' cache: { ttl }, or serve without --workers\n",
    );
  });
});
