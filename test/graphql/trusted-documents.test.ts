/**
 * Trusted documents (KILN_GRAPHQL_TRUSTED_DOCUMENTS, KILN_GRAPHQL_TRUSTED_ONLY) over HTTP, on the
 * blog: a document run by `documentId` (POST and GET, with or without the `sha256:` prefix) and by
 * Apollo's `extensions.persistedQuery.sha256Hash`; an unknown id; TRUSTED_ONLY refusing a plain
 * `query` unless its sha256 is in the manifest, over HTTP and WebSocket; and a manifest that cannot be used stopping the start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import { sha256Hex, TrustedDocuments } from '../../src/graphql/trusted-documents.js';
import { trustedRequestParser } from '../../src/graphql/trusted-request.js';
import { startKiln } from '../../src/start.js';
import { Subscription, wsClient } from '../events/live-clients.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';

const TITLES = 'query Titles($n: Int) { posts(limit: $n) { items { id title } } }';
const TAGS = '{ tags(limit: 2) { items { name } } }';
const UNLISTED = '{ posts(limit: 1) { items { id } } }';
const MANIFEST = { [sha256Hex(TITLES)]: TITLES, [sha256Hex(TAGS)]: TAGS };
const UNKNOWN_ID = sha256Hex(UNLISTED);

const dir = mkdtempSync(join(tmpdir(), 'kiln-trusted-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const manifestFile = write('persisted-documents.json', JSON.stringify(MANIFEST));

interface Answer {
  readonly status: number;
  readonly requestId: string | null;
  readonly body: any;
}

async function post(server: TestServer, json: unknown): Promise<Answer> {
  const res = await server.fetch('/graphql', { method: 'POST', headers: { accept: 'application/json' }, json });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() };
}

async function get(server: TestServer, params: Record<string, string>): Promise<Answer> {
  const res = await server.fetch(`/graphql?${new URLSearchParams(params)}`, { headers: { accept: 'application/json' } });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() };
}

async function sqlOf(server: TestServer, requestId: string | null): Promise<unknown[]> {
  const done = () => server.logs.some((l) => l.reqId === requestId && l.msg === 'request');
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `no request line for ${requestId}`);
  return server.logs.filter((l) => l.reqId === requestId && l.msg === 'sql');
}

function refusal(code: string, message: string) {
  return { status: 200, body: { errors: [{ message, extensions: { code, status: 400 } }] } };
}

after(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of BACKENDS) {
  describe(`trusted documents beside plain queries (${backend})`, () => {
    let server: TestServer;
    let expectedTitles: unknown;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, { graphqlTrustedDocuments: manifestFile, logSql: '1' }, BLOG_SEED_PATH);
      expectedTitles = (await post(server, { query: TITLES, variables: { n: 2 } })).body;
      assert.equal((expectedTitles as { data: { posts: { items: unknown[] } } }).data.posts.items.length, 2);
    });
    after(() => server.close());

    test('POST with documentId runs the document of the manifest, with variables; the sha256: prefix works too', async () => {
      const id = sha256Hex(TITLES);
      assert.deepEqual((await post(server, { documentId: id, variables: { n: 2 } })).body, expectedTitles);
      assert.deepEqual((await post(server, { documentId: `sha256:${id}`, variables: { n: 2 }, operationName: 'Titles' })).body, expectedTitles);
    });

    test('GET with documentId runs it too', async () => {
      const answer = await get(server, { documentId: sha256Hex(TITLES), variables: JSON.stringify({ n: 2 }) });
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, expectedTitles);
    });

    test("Apollo's persisted-query hash, in a POST body or a GET query string", async () => {
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256Hex(TAGS) } };
      const byPost = await post(server, { extensions });
      assert.equal(byPost.status, 200);
      assert.equal(byPost.body.data.tags.items.length, 2);
      assert.deepEqual((await get(server, { extensions: JSON.stringify(extensions) })).body, byPost.body);
    });

    test('an id not in the manifest is refused before any SQL', async () => {
      const answer = await post(server, { documentId: UNKNOWN_ID });
      assert.deepEqual(
        { status: answer.status, body: answer.body },
        refusal(
          'KILN_GRAPHQL_DOCUMENT_UNKNOWN',
          `unknown document id "${UNKNOWN_ID}": it is not in the manifest of trusted documents; send the document's \`query\` or an id from the manifest`,
        ),
      );
      assert.deepEqual(await sqlOf(server, answer.requestId), []);
      const apollo = await get(server, { extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'abc' } }) });
      assert.equal(apollo.body.errors[0].extensions.code, 'KILN_GRAPHQL_DOCUMENT_UNKNOWN');
    });

    test('an id and a query together, or an id that is not a string, are refused', async () => {
      assert.deepEqual(
        await post(server, { documentId: sha256Hex(TAGS), query: TAGS }).then(({ status, body }) => ({ status, body })),
        refusal('KILN_GRAPHQL_INVALID', 'send either `documentId` or `query`, not both'),
      );
      assert.deepEqual(
        await post(server, { documentId: 42 }).then(({ status, body }) => ({ status, body })),
        refusal('KILN_GRAPHQL_INVALID', '`documentId` must be a non-empty string'),
      );
    });

    test('without KILN_GRAPHQL_TRUSTED_ONLY, any other document still runs', async () => {
      const answer = await post(server, { query: UNLISTED });
      assert.equal(answer.body.data.posts.items.length, 1);
    });

    test('a trusted document is held to the bounds too', async () => {
      const answer = await post(server, { documentId: sha256Hex(TITLES), variables: { n: 5000 } });
      assert.deepEqual({ status: answer.status, body: answer.body }, refusal('KILN_GRAPHQL_TOO_COSTLY', 'the document costs 10002; at most 5000'));
    });
  });

  describe(`KILN_GRAPHQL_TRUSTED_ONLY (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(
        await blogModel(),
        backend,
        { graphqlTrustedDocuments: manifestFile, graphqlTrustedOnly: true, logSql: '1' },
        BLOG_SEED_PATH,
      );
    });
    after(() => server.close());

    test('a plain query not in the manifest is refused before any SQL, over POST and GET', async () => {
      const expected = refusal(
        'KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED',
        'this server runs only trusted documents: send `documentId` with the sha256 of a document of its manifest instead of `query`',
      );
      const byPost = await post(server, { query: UNLISTED });
      assert.deepEqual({ status: byPost.status, body: byPost.body }, expected);
      assert.deepEqual(await sqlOf(server, byPost.requestId), []);
      const byGet = await get(server, { query: UNLISTED });
      assert.deepEqual({ status: byGet.status, body: byGet.body }, expected);
    });

    test('a plain query whose text is in the manifest runs, as does its id', async () => {
      const byText = await post(server, { query: TAGS });
      assert.equal(byText.body.data.tags.items.length, 2);
      assert.ok((await sqlOf(server, byText.requestId)).length > 0);
      assert.deepEqual((await post(server, { documentId: sha256Hex(TAGS) })).body, byText.body);
      const changed = await post(server, { query: `${TAGS} ` });
      assert.equal(changed.body.errors[0].extensions.code, 'KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED', 'the text is trusted byte for byte');
    });

    test('over WebSocket, a document not in the manifest is refused before it runs; a trusted text runs', async () => {
      const client = wsClient(server.url);
      try {
        const refused = await new Subscription(client, UNLISTED).next();
        assert.deepEqual(refused, {
          errors: [
            {
              message: 'this server runs only trusted documents: over WebSocket, send the exact text of a document of its manifest as `query`',
              extensions: { code: 'KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED', status: 400 },
            },
          ],
        });
        const ran = (await new Subscription(client, TAGS).next()) as { data: any };
        assert.equal(ran.data.tags.items.length, 2);
      } finally {
        await client.dispose();
      }
    });
  });
}

describe('a request by id on a server without a manifest', () => {
  test('is refused as unknown, saying why', async () => {
    const parse = trustedRequestParser(undefined, false);
    const request = {
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: { documentId: UNKNOWN_ID },
      raw: null,
      context: null,
    };
    await assert.rejects(parse(request), {
      message: `unknown document id "${UNKNOWN_ID}": this server keeps no trusted documents (KILN_GRAPHQL_TRUSTED_DOCUMENTS is not set); send the document's \`query\` or an id from the manifest`,
      extensions: { code: 'KILN_GRAPHQL_DOCUMENT_UNKNOWN', status: 400 },
    });
    assert.equal(await parse({ ...request, body: { query: UNLISTED } }), undefined, 'a plain query is left to graphql-http');
  });
});

describe('a manifest that cannot be used stops the start', () => {
  const setting = 'KILN_GRAPHQL_TRUSTED_DOCUMENTS';

  test('each fault is named with the file, the entry and the fix', () => {
    const broken = sha256Hex('{ posts { ');
    const cases: [string, string, string][] = [
      [
        'missing',
        join(dir, 'missing.json'),
        `${setting}: cannot read ${join(dir, 'missing.json')}: ENOENT: no such file or directory, open '${join(dir, 'missing.json')}'`,
      ],
      [
        'not JSON',
        write('garbage.json', '{"a": '),
        `${setting}: ${join(dir, 'garbage.json')} is not valid JSON (Unexpected end of JSON input); a manifest of trusted documents is { "<sha256 hex>": "<document>" }`,
      ],
      [
        'an array',
        write('array.json', '["{ __typename }"]'),
        `${setting}: ${join(dir, 'array.json')} must be a JSON object { "<sha256 hex>": "<document>" }, as GraphQL Codegen's persisted documents are`,
      ],
      ['empty', write('empty.json', '{}'), `${setting}: ${join(dir, 'empty.json')} lists no document; generate it from your client's documents`],
      [
        'a key that is no sha256',
        write('md5.json', JSON.stringify({ '0cc175b9c0f1b6a831c399e269772661': TAGS })),
        `${setting}: ${join(dir, 'md5.json')}: entry "0cc175b9c0f1b6a831c399e269772661": the key is not a sha256 in lowercase hex (64 characters 0-9a-f); the manifest is { "<sha256 hex>": "<document>" }`,
      ],
      [
        'a document that is not a string',
        write('object.json', JSON.stringify({ [sha256Hex(TAGS)]: { query: TAGS } })),
        `${setting}: ${join(dir, 'object.json')}: entry "${sha256Hex(TAGS)}": the document is object, not a string`,
      ],
      [
        'a key of another document',
        write('swapped.json', JSON.stringify({ [sha256Hex(TAGS)]: TITLES })),
        `${setting}: ${join(dir, 'swapped.json')}: entry "${sha256Hex(TAGS)}": the key is not the sha256 of its document (that is ${sha256Hex(TITLES)}); regenerate the manifest with sha256 hashes`,
      ],
      [
        'a document that does not parse',
        write('syntax.json', JSON.stringify({ [broken]: '{ posts { ' })),
        `${setting}: ${join(dir, 'syntax.json')}: entry "${broken}": the document does not parse: Syntax Error: Expected Name, found <EOF>. (line 1, column 11)`,
      ],
    ];
    for (const [label, file, message] of cases) {
      assert.throws(
        () => TrustedDocuments.load(file),
        (error: unknown) => {
          assert.ok(error instanceof StartupError, label);
          assert.equal(error.message, message, label);
          return true;
        },
      );
    }
  });

  test('the server does not start on such a manifest, nor with TRUSTED_ONLY and no manifest', async () => {
    const backend = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';
    const test = await createTestDatabase(backend);
    try {
      const base = { ...resolveSettings({}), host: '127.0.0.1', port: 0, dbSchema: test.schema, logLevel: 'silent' };
      const empty = write('empty.json', '{}');
      await assert.rejects(startKiln({ model: await blogModel(), settings: { ...base, graphqlTrustedDocuments: empty }, db: test.db }), {
        name: 'StartupError',
        message: `${setting}: ${empty} lists no document; generate it from your client's documents`,
      });
      await assert.rejects(startKiln({ model: await blogModel(), settings: { ...base, graphqlTrustedOnly: true }, db: test.db }), {
        name: 'StartupError',
        message:
          'KILN_GRAPHQL_TRUSTED_ONLY is true but KILN_GRAPHQL_TRUSTED_DOCUMENTS is not set: name the manifest of the documents to run, or set KILN_GRAPHQL_TRUSTED_ONLY=false',
      });
    } finally {
      await test.dispose();
    }
  });
});
