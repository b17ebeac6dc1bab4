import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { ConfigError, resolveSettings } from '../../src/config/settings.js';
import { ERRORS } from '../../src/core/errors.js';
import { compileOrThrow } from '../../src/model/load.js';
import { BACKENDS, startTestServer } from '../helpers/server.js';
import { documentOf } from './document-options.js';

const BASE = 'https://api.example.com/problems/';
const model = () => compileOrThrow('notes', { resources: { notes: { fields: { text: { type: 'string' } } } } });

/** Sends raw bytes and reads the whole answer: the HTTP parser's own errors never reach fetch intact. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((done, fail) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('end', () => done(text));
    socket.on('error', fail);
  });
}

describe('KILN_PROBLEM_TYPE_BASE', () => {
  test('every problem a server answers carries it: a route error, no route, and the HTTP parser refusing the headers', async () => {
    const server = await startTestServer(model(), BACKENDS[0] ?? 'pglite', { problemTypeBase: BASE, maxHeaderSize: 1024 });
    try {
      const missing = await server.fetch('/v1/notes/987654');
      assert.equal(missing.status, 404);
      assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const body = await missing.json();
      assert.deepEqual({ type: body.type, code: body.code, status: body.status }, { type: `${BASE}KILN_NOT_FOUND`, code: 'KILN_NOT_FOUND', status: 404 });
      assert.equal((await (await server.fetch('/v1/nope')).json()).type, `${BASE}KILN_ROUTE_NOT_FOUND`);
      const tooLarge = await raw(server.url, `GET /v1/notes HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
      assert.match(tooLarge, /^HTTP\/1\.1 431 /);
      assert.match(tooLarge, new RegExp(`"type":"${BASE}KILN_HEADERS_TOO_LARGE"`));
    } finally {
      await server.close();
    }
  });

  test('the document uses it in the Problem schema and in every problem example', () => {
    const doc = documentOf(model(), { KILN_PROBLEM_TYPE_BASE: BASE });
    const type = doc.components.schemas.Problem.properties.type;
    assert.equal(type.description, `\`${BASE}\` followed by the code.`);
    assert.equal(type.maxLength, BASE.length + Math.max(...Object.keys(ERRORS).map((code) => code.length)), 'the base and the longest code');
    assert.equal(doc.components.responses.KILN_NOT_FOUND.content['application/problem+json'].example.type, `${BASE}KILN_NOT_FOUND`);
    const text = JSON.stringify(doc);
    assert.equal(text.includes('https://kiln.dev/errors/'), false, 'no example keeps the default base');
    const examples = [...text.matchAll(/"type":"([^"]+)"/g)].map((m) => m[1]).filter((t) => t?.includes('KILN_'));
    assert.ok(examples.length > 10, 'the document has problem examples');
    for (const t of examples) assert.ok(t?.startsWith(BASE), t);
  });

  test("the default is today's base, and a base that is not an http(s) URL ending in / or # is refused at start-up", () => {
    assert.equal(resolveSettings({}).problemTypeBase, 'https://kiln.dev/errors/');
    assert.equal(resolveSettings({ KILN_PROBLEM_TYPE_BASE: 'https://example.com/errors#' }).problemTypeBase, 'https://example.com/errors#');
    assert.throws(
      () => resolveSettings({ KILN_PROBLEM_TYPE_BASE: 'https://example.com/errors' }),
      new ConfigError('invalid configuration:\n  - KILN_PROBLEM_TYPE_BASE: "https://example.com/errors" does not match /^https?:\\/\\/\\S+[/#]$/'),
    );
    assert.throws(() => resolveSettings({ KILN_PROBLEM_TYPE_BASE: 'urn:example:' }), ConfigError);
  });
});
