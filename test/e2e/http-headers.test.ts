import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, resolveSettings } from '../../src/config/settings.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const APP = 'https://app.example.com';

for (const backend of BACKENDS) {
  describe(`production headers (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, { corsOrigins: [APP, 'http://localhost:5173'], bodyLimit: 1000 });
    });
    after(() => server.close());

    test('every response carries a fresh X-Request-Id, errors and unknown routes included', async () => {
      const requests: [string, RequestInit & { json?: unknown }][] = [
        ['/v1/tags', {}],
        ['/v1/tags', { method: 'HEAD' }],
        ['/v1/tags', { method: 'POST', json: { name: 'rid' } }],
        ['/v1/tags', { method: 'POST', json: { name: '' } }],
        ['/v1/tags', { method: 'POST', json: { name: 'x'.repeat(2000) } }],
        ['/v1/tags', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } }],
        ['/v1/tags', { method: 'PUT' }],
        ['/v1/tags/999', {}],
        ['/v1/tags/abc', {}],
        ['/nowhere', {}],
        ['/healthz', {}],
        ['/v1/tags', { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST' } }],
      ];
      const ids = new Set<string>();
      for (const [path, init] of requests) {
        const res = await server.fetch(path, init);
        const id = res.headers.get('x-request-id') ?? '';
        assert.match(id, UUID, `${init.method ?? 'GET'} ${path} → ${res.status}`);
        ids.add(id);
      }
      assert.equal(ids.size, requests.length, 'each request has its own id');
    });

    test('a safe incoming X-Request-Id is kept: echoed, used as the problem instance and in the log', async () => {
      for (const id of ['abc-123', 'trace.0af7651916cd43dd8448eb211c80319c:b7ad6b71', 'A'.repeat(128)]) {
        const res = await server.fetch('/v1/tags/999', { headers: { 'x-request-id': id } });
        assert.equal(res.headers.get('x-request-id'), id);
        assert.equal((await res.json()).instance, id);
        const logged = () => server.logs.filter((l) => l.reqId === id && l.msg === 'request').length;
        for (let i = 0; i < 100 && logged() === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(logged(), 1);
      }
    });

    test('an unsafe incoming X-Request-Id is replaced, never echoed or logged', async () => {
      for (const bad of ['has spaces', 'A'.repeat(200), 'a"b', '<script>', 'line\tbreak', '']) {
        const res = await server.fetch('/v1/tags', { headers: { 'x-request-id': bad } });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('x-request-id') ?? '', UUID, JSON.stringify(bad));
      }
      const logged = JSON.stringify(server.logs);
      assert.doesNotMatch(logged, /has spaces|<script>|A{200}/);
    });

    test('security headers are set on data, errors and health answers: the OWASP set for APIs', async () => {
      for (const path of ['/v1/tags', '/v1/nowhere', '/healthz', '/openapi.json']) {
        const res = await server.fetch(path);
        const h = (name: string) => res.headers.get(name);
        assert.equal(h('x-content-type-options'), 'nosniff', path);
        assert.equal(h('content-security-policy'), "default-src 'none'; frame-ancestors 'none'", path);
        assert.equal(h('x-frame-options'), 'DENY');
        assert.equal(h('referrer-policy'), 'no-referrer');
        assert.equal(h('strict-transport-security'), 'max-age=31536000; includeSubDomains');
        assert.equal(h('cross-origin-resource-policy'), 'same-origin');
        assert.equal(h('x-powered-by'), null);
      }
    });

    test("the documentation page carries helmet's document headers and its own CSP", async () => {
      for (const path of ['/docs', '/docs/assets/init.js']) {
        const res = await server.fetch(path);
        const h = (name: string) => res.headers.get(name);
        assert.match(h('content-security-policy') ?? '', /default-src 'self'/, path);
        assert.match(h('content-security-policy') ?? '', /object-src 'none'/);
        assert.match(h('content-security-policy') ?? '', /frame-ancestors 'self'/);
        assert.equal(h('x-frame-options'), 'SAMEORIGIN');
        assert.equal(h('cross-origin-opener-policy'), 'same-origin');
        assert.equal(h('x-dns-prefetch-control'), 'off');
        assert.equal(h('x-content-type-options'), 'nosniff');
        assert.equal(h('x-powered-by'), null);
      }
    });

    test('CORS: a listed origin is allowed and sees the exposed headers; any other is not', async () => {
      const ok = await server.fetch('/v1/tags', { headers: { origin: APP } });
      assert.equal(ok.headers.get('access-control-allow-origin'), APP);
      assert.equal(
        ok.headers.get('access-control-expose-headers'),
        'etag, location, x-request-id, idempotent-replayed, ratelimit, ratelimit-policy, retry-after, x-cache',
      );
      assert.match(ok.headers.get('vary') ?? '', /Origin/);
      assert.equal(ok.headers.get('access-control-allow-credentials'), null);
      for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.io', 'http://app.example.com', 'null']) {
        const res = await server.fetch('/v1/tags', { headers: { origin } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
      }
      const error = await server.fetch('/v1/tags/abc', { headers: { origin: APP } });
      assert.equal(error.headers.get('access-control-allow-origin'), APP, 'errors are readable by the app too');
    });

    test('CORS preflight answers 204 for a listed origin with methods, headers and max-age', async () => {
      const res = await server.fetch('/v1/posts/1', {
        method: 'OPTIONS',
        headers: { origin: APP, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'content-type, if-match' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, PUT, DELETE');
      assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, if-match');
      assert.equal(res.headers.get('access-control-max-age'), '600');
      const denied = await server.fetch('/v1/posts/1', {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'DELETE' },
      });
      assert.equal(denied.headers.get('access-control-allow-origin'), null);
    });

    test('HEAD works on every GET route: same status and headers, no body', async () => {
      const created = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'head' } });
      const id = (await created.json()).data.id;
      for (const path of ['/v1/tags', `/v1/tags/${id}`, '/v1/tags?limit=1&sort=-name', '/healthz', '/readyz', '/openapi.json']) {
        const get = await server.fetch(path);
        const head = await server.fetch(path, { method: 'HEAD' });
        assert.equal(head.status, 200, path);
        assert.equal(await head.text(), '');
        assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
        assert.equal(head.headers.get('etag'), get.headers.get('etag'));
        assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(await get.text())));
      }
      const missing = await server.fetch('/v1/tags/999999', { method: 'HEAD' });
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), '');
    });
  });

  describe(`CORS defaults and wildcard (${backend})`, () => {
    test('with no origins configured no cross-origin access is granted', async () => {
      const server = await startTestServer(await blogModel(), backend);
      try {
        const res = await server.fetch('/v1/tags', { headers: { origin: APP } });
        assert.equal(res.headers.get('access-control-allow-origin'), null);
      } finally {
        await server.close();
      }
    });

    test('"*" allows any origin; credentials need listed origins', async () => {
      const server = await startTestServer(await blogModel(), backend, { corsOrigins: ['*'] });
      try {
        const res = await server.fetch('/v1/tags', { headers: { origin: 'https://anyone.example' } });
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
      } finally {
        await server.close();
      }
      const withCredentials = await startTestServer(await blogModel(), backend, { corsOrigins: [APP], corsCredentials: true });
      try {
        const res = await withCredentials.fetch('/v1/tags', { headers: { origin: APP } });
        assert.equal(res.headers.get('access-control-allow-origin'), APP);
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      } finally {
        await withCredentials.close();
      }
    });
  });
}

test('corsCredentials with a "*" origin is refused when the configuration is read', () => {
  assert.throws(
    () => resolveSettings({ KILN_CORS_ORIGINS: '*', KILN_CORS_CREDENTIALS: 'true' }),
    (error: Error) =>
      error instanceof ConfigError &&
      error.message === 'invalid configuration:\n  - KILN_CORS_ORIGINS: "*" cannot be used with KILN_CORS_CREDENTIALS=true; list the origins',
  );
  assert.throws(() => resolveSettings({}, { corsOrigins: ['https://a.example', '*'], corsCredentials: true }), ConfigError);
  assert.deepEqual(resolveSettings({ KILN_CORS_ORIGINS: '*' }).corsOrigins, ['*']);
});
