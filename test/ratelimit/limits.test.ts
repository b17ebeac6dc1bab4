/**
 * The rate limits of the API in memory (one instance), over HTTP: each call is counted by the one
 * policy that applies (the resource's entry for the operation, its `default`, or KILN_RATE_LIMIT),
 * per caller (account, API key, or client IP), and every counted answer says where the caller stands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SseClient } from '../events/sse-client.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { assertState, expectLimited } from './helpers.js';
import { notesModel, testCallers } from './models.js';

for (const backend of BACKENDS) {
  describe(`rate limits per operation (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(notesModel(), backend, { rateLimit: '4/min' });
    });
    after(() => server.close());

    test('creates have their own budget; past it, 429 with Retry-After and the RateLimit fields', async () => {
      for (const remaining of [2, 1, 0]) {
        const res = await server.fetch('/v1/notes', { method: 'POST', json: { title: `note ${remaining}` } });
        assert.equal(res.status, 201, await res.text());
        assert.equal(res.headers.get('ratelimit-policy'), '"notes.create";q=3;w=60');
        assertState(res, 'notes.create', remaining, 60);
        assert.equal(res.headers.get('retry-after'), null);
      }
      const refused = await server.fetch('/v1/notes', { method: 'POST', json: { title: 'one too many' } });
      await expectLimited(refused, 'notes.create', '3 per 60 seconds', '"notes.create";q=3;w=60');
      const bulk = await server.fetch('/v1/notes/bulk', { method: 'POST', json: [{ title: 'bulk' }] });
      await expectLimited(bulk, 'notes.create', '3 per 60 seconds', '"notes.create";q=3;w=60');
      const count = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
      assert.equal(count[0]?.n, 3, 'a refused create writes nothing');
    });

    test("the resource's other operations share its `default`; other resources count under KILN_RATE_LIMIT", async () => {
      const list = await server.fetch('/v1/notes');
      assert.equal(list.status, 200);
      assert.equal(list.headers.get('ratelimit-policy'), '"notes";q=5;w=60');
      assertState(list, 'notes', 4, 60);
      const read = await server.fetch('/v1/notes/1');
      assert.equal(read.status, 200);
      assertState(read, 'notes', 3, 60);
      for (const remaining of [3, 2, 1, 0]) {
        const tags = await server.fetch('/v1/tags');
        assert.equal(tags.status, 200);
        assert.equal(tags.headers.get('ratelimit-policy'), '"default";q=4;w=60');
        assertState(tags, 'default', remaining, 60);
      }
      await expectLimited(await server.fetch('/v1/tags'), 'default', '4 per 60 seconds', '"default";q=4;w=60');
      // A write of tags counts in the same budget as its reads.
      await expectLimited(await server.fetch('/v1/tags', { method: 'POST', json: { name: 'x' } }), 'default', '4 per 60 seconds', '"default";q=4;w=60');
      assert.equal((await server.fetch('/v1/notes')).status, 200, 'the budget of notes is its own');
    });

    test('answers without an operation carry no RateLimit field', async () => {
      const health = await server.fetch('/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.headers.get('ratelimit'), null);
      assert.equal(health.headers.get('ratelimit-policy'), null);
    });
  });
}

describe('rate limits per caller', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(notesModel({}), BACKENDS[0] ?? 'pglite', { rateLimit: '2/min' }, undefined, { authenticators: [testCallers] });
  });
  after(() => server.close());

  const get = (caller?: string) => server.fetch('/v1/tags', caller ? { headers: { 'x-test-caller': caller } } : {});

  test('an account, an API key and an anonymous client IP each have their own budget', async () => {
    for (const caller of [undefined, 'account:1', 'apiKey:1', 'account:2']) {
      for (const remaining of [1, 0]) {
        const res = await get(caller);
        assert.equal(res.status, 200, `${caller ?? 'anonymous'}: ${await res.text()}`);
        assertState(res, 'default', remaining, 60);
      }
      await expectLimited(await get(caller), 'default', '2 per 60 seconds', '"default";q=2;w=60');
    }
  });

  test('with KILN_TRUST_PROXY off, X-Forwarded-For changes nothing, and the server says so once', async () => {
    // The anonymous budget of 127.0.0.1 is used up by the test above.
    for (const forwarded of ['203.0.113.7', '203.0.113.8']) {
      const res = await server.fetch('/v1/tags', { headers: { 'x-forwarded-for': forwarded } });
      await expectLimited(res, 'default', '2 per 60 seconds', '"default";q=2;w=60');
    }
    const warnings = server.logs.filter((line) => String(line.msg).startsWith('rate limits: a request came with X-Forwarded-For'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.level, 40);
  });
});

describe('rate limits behind a trusted proxy (KILN_TRUST_PROXY)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(notesModel({}), BACKENDS[0] ?? 'pglite', { rateLimit: '1/min', trustProxy: '127.0.0.1,::1' });
  });
  after(() => server.close());

  test('each forwarded client address has its own budget; the proxy is not one', async () => {
    for (const client of ['203.0.113.7', '2001:db8::1']) {
      const headers = { 'x-forwarded-for': client };
      const first = await server.fetch('/v1/tags', { headers });
      assert.equal(first.status, 200);
      assertState(first, 'default', 0, 60);
      await expectLimited(await server.fetch('/v1/tags', { headers }), 'default', '1 per 60 seconds', '"default";q=1;w=60');
    }
    // Only the address the trusted proxy adds counts: what the client itself wrote before it does not.
    const spoofed = await server.fetch('/v1/tags', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' } });
    await expectLimited(spoofed, 'default', '1 per 60 seconds', '"default";q=1;w=60');
    assert.equal(server.logs.filter((line) => String(line.msg).includes('KILN_TRUST_PROXY is off')).length, 0);
  });
});

describe('limits turned off', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(notesModel({ list: 'off', default: '1/min' }), BACKENDS[0] ?? 'pglite', { rateLimit: 'off' });
  });
  after(() => server.close());

  test('KILN_RATE_LIMIT=off leaves resources without their own limit free, and `off` frees one operation', async () => {
    for (let i = 0; i < 5; i++) {
      for (const path of ['/v1/tags', '/v1/notes']) {
        const res = await server.fetch(path);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('ratelimit'), null, path);
        assert.equal(res.headers.get('ratelimit-policy'), null, path);
      }
    }
    const create = await server.fetch('/v1/notes', { method: 'POST', json: { title: 'counted' } });
    assert.equal(create.status, 201);
    assertState(create, 'notes', 0, 60);
    await expectLimited(await server.fetch('/v1/notes/1'), 'notes', '1 per 60 seconds', '"notes";q=1;w=60');
  });
});

describe('change events pushed to a subscriber', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(notesModel({ default: '2/min', create: 'off' }), BACKENDS[0] ?? 'pglite', { rateLimit: 'off' });
  });
  after(() => server.close());

  test('opening the stream counts once; the deliveries do not', async () => {
    const stream = await SseClient.open(`${server.api}/notes/events`);
    try {
      assert.equal(stream.response.status, 200);
      for (let i = 0; i < 4; i++) {
        assert.equal((await server.fetch('/v1/notes', { method: 'POST', json: { title: `n${i}` } })).status, 201);
        const event = await stream.next();
        assert.equal(event?.event, 'created');
        assert.equal(event?.data.data.title, `n${i}`);
      }
      // The subscriber's budget of 2 lost one to the stream's opening, none to the four deliveries.
      assertState(await server.fetch('/v1/notes'), 'notes', 0, 60);
    } finally {
      await stream.close();
    }
  });
});
