import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { API_SECURITY_HEADERS } from '../../src/http/security-headers.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Sends raw bytes (what fetch cannot: a malformed request, headers sent slowly) and reads the answer
 * until the server closes the connection. `payload` may be sent in parts with pauses between them.
 */
function rawRequest(url: string, parts: string[], pauseMs = 0): Promise<Response> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Headers(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
      resolve(new Response(body, { status: Number(statusLine.split(' ')[1]), headers }));
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        if (!socket.writable) break;
        socket.write(part);
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  });
}

/** The API's security headers, which every answer carries (http-headers.test.ts checks their values). */
const SECURITY_HEADERS = Object.keys(API_SECURITY_HEADERS);

for (const backend of BACKENDS) {
  describe(`request errors (${backend})`, () => {
    let server: TestServer;
    let postId: number;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, { bodyLimit: 2048 });
      const user = await server.fetch('/v1/users', { method: 'POST', json: { email: 'e@example.com', name: 'E' } });
      const post = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'T', authorId: (await user.json()).data.id } });
      postId = (await post.json()).data.id;
    });
    after(() => server.close());

    /** The request lines logged under a request id (written just after the response, so wait a moment). */
    async function requestLines(id: unknown): Promise<Record<string, unknown>[]> {
      const find = () => server.logs.filter((l) => l.reqId === id && l.msg === 'request');
      for (let i = 0; i < 100 && find().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      return find().map(({ method, route, path, status }) => ({ method, route, path, status }));
    }

    /** The headers the hooks add to every answer: the request id (equal to the problem's instance) and helmet's. */
    async function expectEveryAnswersHeaders(res: Response): Promise<void> {
      const reference = await server.fetch('/healthz');
      for (const name of SECURITY_HEADERS) {
        assert.ok(reference.headers.get(name), name);
        assert.equal(res.headers.get(name), reference.headers.get(name), name);
      }
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }

    test('a path no route serves is 404 KILN_ROUTE_NOT_FOUND', async () => {
      for (const [method, path] of [
        ['GET', '/v1/nothing'],
        ['GET', '/nothing'],
        ['POST', '/v1/posts/1/extra'],
        ['DELETE', '/v2/posts/1'],
      ]) {
        const problem = await expectProblem(await server.fetch(path as string, { method }), 404, 'KILN_ROUTE_NOT_FOUND');
        assert.equal(problem.detail, `no route for ${method} ${path}`);
      }
    });

    test('a method a path does not serve is 405 KILN_METHOD_NOT_ALLOWED with the exact Allow header', async () => {
      for (const [method, path, allow] of [
        ['PUT', '/v1/posts', 'GET, HEAD, POST'],
        ['DELETE', '/v1/tags', 'GET, HEAD, POST'],
        ['POST', `/v1/posts/${postId}`, 'DELETE, GET, HEAD, PATCH, PUT'],
        ['PATCH', '/healthz', 'GET, HEAD'],
        ['DELETE', '/readyz', 'GET, HEAD'],
      ] as const) {
        const res = await server.fetch(path, { method, json: method === 'DELETE' ? undefined : {} });
        assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
        const problem = await expectProblem(res, 405, 'KILN_METHOD_NOT_ALLOWED');
        assert.equal(problem.detail, `${method} is not allowed on ${path}`);
      }
    });

    test('a path that is not valid percent-encoding is 400 KILN_BAD_REQUEST, with the id, security headers and one log line', async () => {
      for (const [path, segment] of [
        ['/v1/posts/%zz', '%zz'],
        ['/v1/%zz/x', '%zz'],
        ['/v1/posts/%C0%AF', '%C0%AF'],
        ['/v1/posts/x%E2%82', 'x%E2%82'],
        ['/nothing/%', '%'],
      ] as const) {
        for (const method of ['GET', 'DELETE']) {
          const res = await server.fetch(path, { method });
          await expectEveryAnswersHeaders(res);
          const problem = await expectProblem(res, 400, 'KILN_BAD_REQUEST');
          assert.equal(
            problem.detail,
            `the path segment "${segment}" is not valid percent-encoding: write each reserved or non-ASCII character as %XX, the bytes of its UTF-8 encoding`,
          );
          assert.deepEqual(await requestLines(problem.instance), [{ method, route: null, path, status: 400 }], `${method} ${path}`);
        }
      }
    });

    test('an undecodable path is quoted only as a short excerpt, with anything but URL characters escaped', async () => {
      const res = await rawRequest(server.url, [`GET /v1/posts/%zz"<b>|${'y'.repeat(60)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      const problem = await expectProblem(res, 400, 'KILN_BAD_REQUEST');
      assert.equal(
        problem.detail,
        `the path segment "%zz%22%3Cb%3E%7C${'y'.repeat(24)}…" is not valid percent-encoding: write each reserved or non-ASCII character as %XX, the bytes of its UTF-8 encoding`,
      );
    });

    test('an id longer than 200 characters is 414 KILN_URI_TOO_LONG, with the id, security headers and one log line', async () => {
      const id = 'a'.repeat(201);
      for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
        const res = await server.fetch(`/v1/posts/${id}`, { method, json: method === 'PATCH' || method === 'PUT' ? { title: 'x' } : undefined });
        await expectEveryAnswersHeaders(res);
        const problem = await expectProblem(res, 414, 'KILN_URI_TOO_LONG');
        assert.equal(problem.detail, `the path segment "${'a'.repeat(20)}…" is 201 characters long; ids and other path parameters are at most 200`);
        assert.deepEqual(await requestLines(problem.instance), [{ method, route: null, path: `/v1/posts/${id}`, status: 414 }]);
      }
      // 200 characters still reach the route, which checks them against the id type.
      await expectProblem(await server.fetch(`/v1/posts/${'a'.repeat(200)}`), 400, 'KILN_PATH_INVALID');
    });

    test('a 404 or 405 quotes the path as a safe excerpt of at most 200 characters', async () => {
      const long = `/v1/${'x'.repeat(300)}`;
      assert.equal((await expectProblem(await server.fetch(long), 404, 'KILN_ROUTE_NOT_FOUND')).detail, `no route for GET ${long.slice(0, 200)}…`);
      // tags: no POST route takes a parameter there (posts has POST /posts/:id/publish, where 250 characters are 414).
      const post = await expectProblem(await server.fetch(`/v1/tags/${'1'.repeat(250)}`, { method: 'POST', json: {} }), 405, 'KILN_METHOD_NOT_ALLOWED');
      assert.equal(post.detail, `POST is not allowed on /v1/tags/${'1'.repeat(191)}…`);
      const raw = await rawRequest(server.url, ['GET /v1/a"b<c>\'{}|^` HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      assert.equal((await expectProblem(raw, 404, 'KILN_ROUTE_NOT_FOUND')).detail, "no route for GET /v1/a%22b%3Cc%3E'%7B%7D%7C%5E%60");
    });

    test('a body above the limit is 413 KILN_BODY_TOO_LARGE, and nothing is written', async () => {
      const res = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'x'.repeat(3000) } });
      const problem = await expectProblem(res, 413, 'KILN_BODY_TOO_LARGE');
      assert.equal(problem.detail, 'the request body is larger than the server accepts');
      const patch = await server.fetch(`/v1/posts/${postId}`, { method: 'PATCH', json: { body: 'y'.repeat(5000) } });
      await expectProblem(patch, 413, 'KILN_BODY_TOO_LARGE');
      assert.equal((await (await server.fetch(`/v1/posts/${postId}`)).json()).data.body, '');
    });

    test('a body that is not JSON is 415 KILN_UNSUPPORTED_MEDIA_TYPE', async () => {
      for (const [type, body] of [
        // Only application/json is read: a +json type has semantics of its own (merge or JSON Patch).
        ['application/merge-patch+json', '{"name":"x"}'],
        ['application/json-patch+json', '[{"op":"add","path":"/name","value":"x"}]'],
        ['json', '{"name":"x"}'],
        ['text/plain', 'name=x'],
        ['application/x-www-form-urlencoded', 'name=x'],
        ['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--'],
        ['application/xml', '<tag><name>x</name></tag>'],
      ]) {
        for (const [method, path] of [
          ['POST', '/v1/tags'],
          ['PATCH', `/v1/posts/${postId}`],
        ]) {
          const res = await server.fetch(path as string, { method, body, headers: { 'content-type': type as string } });
          const problem = await expectProblem(res, 415, 'KILN_UNSUPPORTED_MEDIA_TYPE');
          assert.equal(problem.detail, 'send the body as application/json');
        }
      }
    });

    test('invalid JSON is 400 KILN_BODY_MALFORMED, saying what is wrong and where', async () => {
      for (const [body, where] of [
        ['{"name":', "Object value expected after ':' at line 1, column 9"],
        ['{name: "x"}', "Quoted object key expected but got 'n' at line 1, column 2"],
        ['{"name":"x",}', "Quoted object key expected but got '}' at line 1, column 13"],
        ["{'name':'x'}", "Quoted object key expected but got ''' at line 1, column 2"],
        ['undefined', "JSON value expected but got 'u' at line 1, column 1"],
        ['{\n  "name": "x"\n  "more": 1\n}', "Comma ',' expected after value but got '\"' at line 3, column 3"],
      ]) {
        const res = await server.fetch('/v1/tags', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        const problem = await expectProblem(res, 400, 'KILN_BODY_MALFORMED');
        assert.equal(problem.detail, `the body is not valid JSON: ${where}`);
      }
    });

    test('a write without a body is 400 KILN_BODY_MISSING', async () => {
      const empty = await server.fetch('/v1/tags', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } });
      assert.equal((await expectProblem(empty, 400, 'KILN_BODY_MISSING')).detail, 'Content-Type is application/json but the body is empty');
      for (const [method, path] of [
        ['POST', '/v1/tags'],
        ['POST', '/v1/tags/bulk'],
        ['PATCH', `/v1/posts/${postId}`],
        ['PUT', `/v1/posts/${postId}`],
      ]) {
        const res = await server.fetch(path as string, { method });
        assert.equal((await expectProblem(res, 400, 'KILN_BODY_MISSING')).detail, 'this request needs a JSON body', `${method} ${path}`);
      }
    });

    test('an id that is not of the id type is 400 KILN_PATH_INVALID before any SQL runs', async () => {
      const statements: string[] = [];
      const stop = server.db.observe((text) => statements.push(text));
      for (const raw of ['abc', '0', '-1', '1.5', '01', '99999999999999999', '1%20OR%201=1']) {
        for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
          const res = await server.fetch(`/v1/posts/${raw}`, { method, json: method === 'PATCH' || method === 'PUT' ? { title: 'x' } : undefined });
          const problem = await expectProblem(res, 400, 'KILN_PATH_INVALID');
          assert.deepEqual(problem.errors, [{ path: 'id', code: 'type', message: 'expected a positive integer' }], `${method} ${raw}`);
          assert.equal(problem.detail, `"${decodeURIComponent(raw)}" is not a valid post id: expected a positive integer`);
        }
      }
      stop();
      assert.deepEqual(statements, []);
    });

    test('an id that does not exist is 404 KILN_NOT_FOUND on every method', async () => {
      for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
        const res = await server.fetch('/v1/posts/424242', { method, json: method === 'PATCH' || method === 'PUT' ? { title: 'x', authorId: 1 } : undefined });
        assert.equal((await expectProblem(res, 404, 'KILN_NOT_FOUND')).detail, 'no such post (id 424242)', method);
      }
    });

    test('a write with a query string is 400 KILN_QUERY_INVALID naming each parameter', async () => {
      const res = await server.fetch('/v1/tags?dryRun=1&b=2', { method: 'POST', json: { name: 'never' } });
      const problem = await expectProblem(res, 400, 'KILN_QUERY_INVALID');
      assert.equal(problem.detail, 'this route takes no query parameters; got "dryRun", "b"');
      assert.deepEqual(problem.errors, [
        { path: 'dryRun', code: 'unknown', message: 'unknown query parameter' },
        { path: 'b', code: 'unknown', message: 'unknown query parameter' },
      ]);
      for (const [method, path] of [
        ['POST', '/v1/tags/bulk?x=1'],
        ['PATCH', `/v1/posts/${postId}?x=1`],
        ['PUT', `/v1/posts/${postId}?x=1`],
        ['DELETE', `/v1/posts/${postId}?x=1`],
      ]) {
        await expectProblem(await server.fetch(path as string, { method, json: method === 'DELETE' ? undefined : { name: 'x' } }), 400, 'KILN_QUERY_INVALID');
      }
      assert.equal((await (await server.fetch('/v1/tags?name=never&count=true')).json()).page.total, 0);
      assert.equal((await server.fetch(`/v1/posts/${postId}`)).status, 200, 'the DELETE did not run');
    });

    test('an Accept header that admits no JSON is 406 KILN_NOT_ACCEPTABLE on API routes', async () => {
      for (const accept of ['text/html', 'application/xml, text/plain', 'application/json;q=0', 'text/*']) {
        const res = await server.fetch('/v1/tags', { headers: { accept } });
        const problem = await expectProblem(res, 406, 'KILN_NOT_ACCEPTABLE');
        assert.equal(problem.detail, 'this API answers only application/json; send Accept: application/json', accept);
      }
      const write = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'html-only' }, headers: { accept: 'text/html' } });
      await expectProblem(write, 406, 'KILN_NOT_ACCEPTABLE');
      assert.equal((await (await server.fetch('/v1/tags?name=html-only&count=true')).json()).page.total, 0, 'refused before it ran');
      for (const accept of [
        'application/json',
        '*/*',
        'application/*',
        'text/html, application/json;q=0.1',
        'application/problem+json',
        'APPLICATION/JSON; charset=utf-8',
        '',
      ]) {
        assert.equal((await server.fetch(`/v1/posts/${postId}`, { headers: { accept } })).status, 200, accept);
      }
      assert.equal((await server.fetch('/healthz', { headers: { accept: 'text/plain' } })).status, 200, 'health checks are not negotiated');
    });

    test('headers above the limit are 431 KILN_HEADERS_TOO_LARGE, answered as problem+json by the HTTP parser', async () => {
      const res = await server.fetch('/v1/tags', { headers: { 'x-padding': 'a'.repeat(20_000) } });
      await expectEveryAnswersHeaders(res);
      const problem = await expectProblem(res, 431, 'KILN_HEADERS_TOO_LARGE');
      assert.equal(problem.title, 'Request headers too large');
    });

    test('a request the HTTP parser cannot read is 400 KILN_BAD_REQUEST', async () => {
      const res = await rawRequest(server.url, ['NOT A REQUEST\r\n\r\n']);
      await expectEveryAnswersHeaders(res);
      await expectProblem(res, 400, 'KILN_BAD_REQUEST');
      const badLength = await rawRequest(server.url, ['POST /v1/tags HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}']);
      await expectProblem(badLength, 400, 'KILN_BAD_REQUEST');
    });

    test("Fastify's own 400s are KILN_BAD_REQUEST with a detail of their own", async () => {
      // A QUERY (RFC 10008) without Content-Type is refused by Fastify before it looks for a route.
      const query = await rawRequest(server.url, ['QUERY /v1/tags HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      await expectEveryAnswersHeaders(query);
      const problem = await expectProblem(query, 400, 'KILN_BAD_REQUEST');
      assert.equal(problem.detail, 'a QUERY request must send a Content-Type header');
    });
  });

  describe(`request timeout (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, { requestTimeoutMs: 300 });
    });
    after(() => server.close());

    test('a client that sends its headers too slowly gets 408 KILN_REQUEST_TIMEOUT', async () => {
      const res = await rawRequest(server.url, ['GET /v1/tags HTTP/1.1\r\n', 'Host: x\r\n', 'X-Slow: 1\r\n', 'X-Slower: 2\r\n'], 150);
      const problem = await expectProblem(res, 408, 'KILN_REQUEST_TIMEOUT');
      assert.equal(problem.title, 'Request timeout');
      const line = server.logs.find((l) => l.reqId === problem.instance);
      assert.equal(line?.status, 408, 'the rejection is logged under the same request id');
    });

    test('a client that stops sending its body gets 408 too', async () => {
      const head = 'POST /v1/tags HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n';
      const res = await rawRequest(server.url, [head, '{"name":']);
      assert.equal(res.status, 408);
      assert.equal((await (await server.fetch('/v1/tags?count=true')).json()).page.total, 0);
    });
  });
}
