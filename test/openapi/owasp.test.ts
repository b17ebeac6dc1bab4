import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ISpectralDiagnostic, type RulesetDefinition, Spectral } from '@stoplight/spectral-core';
import owasp from '@stoplight/spectral-owasp-ruleset';
import type { Model } from '../../src/model/ir.js';
import { allTypesModel as filterFixtureModel } from '../fixtures/all-types.js';
import { blogModel, blogModelWithRules } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, DEFAULT_RATE_LIMIT, startTestServer, type TestServer } from '../helpers/server.js';
import { documentedOperations, ResponseChecker } from './document-tools.js';
import { allTypesModel } from './models.js';

/** The OWASP API Security rules on bounds (API4:2023, unrestricted resource consumption): none may report an error. */
const BOUND_RULES = [
  'owasp:api4:2023-string-limit',
  'owasp:api4:2023-array-limit',
  'owasp:api4:2023-integer-limit',
  'owasp:api4:2023-integer-limit-legacy',
  'owasp:api4:2023-integer-format',
] as const;

/**
 * The OWASP errors the document still has, and what will clear each. The test fails on any other, so
 * this list stays true. (`owasp:api4:2023-string-restricted`, a string without format, pattern or enum,
 * is a warning: free text has none of them.)
 */
const REMAINING: Record<string, string> = {
  // The all-types models have a field named `token`, so a filter parameter is named like a credential;
  // it filters on data. Credentials travel only in headers and the cookie (test/openapi/security.test.ts).
  'owasp:api2:2023-no-credentials-in-url': 'a model choice: a field named like a credential is filtered on like any other',
  'owasp:api8:2023-define-cors-origin': 'a deployment setting: Access-Control-Allow-Origin exists only with KILN_CORS_ORIGINS',
  'owasp:api8:2023-no-server-http': 'a deployment setting: KILN_PUBLIC_URL with https (the default `/` is relative)',
  'owasp:api9:2023-inventory-access': 'a deployment setting: whether the server is internal (`x-internal`)',
  'owasp:api9:2023-inventory-environment': 'a deployment setting: the environment named in the server description',
  'owasp:api1:2023-no-numeric-ids': 'a model choice: integer ids by default, `id: uuid` for random ones; object access is issue "Authorization"',
};

/**
 * Errors only a model without `auth` may have: nothing checks a credential there, so no operation is
 * protected and the document declares no scheme rather than claim one. With `auth`, every operation
 * states its security (test/openapi/security.test.ts).
 */
const WITHOUT_AUTH: Record<string, string> = {
  'owasp:api2:2023-write-restricted': 'a model choice: without `auth`, every operation is open to anyone',
};

// The package's types describe its CommonJS build (the ruleset under `default`); Node loads its ES
// build, whose default export is the ruleset itself.
const OWASP_RULESET = ('default' in owasp ? owasp.default : owasp) as unknown as RulesetDefinition;

async function lint(text: string): Promise<ISpectralDiagnostic[]> {
  const spectral = new Spectral();
  spectral.setRuleset(OWASP_RULESET);
  return spectral.run(text);
}

const ERROR = 0;
const errorsOf = (results: ISpectralDiagnostic[], codes: readonly string[]) => results.filter((r) => r.severity === ERROR && codes.includes(String(r.code)));
const show = (results: ISpectralDiagnostic[]) =>
  results
    .slice(0, 30)
    .map((r) => `${r.code} ${r.path.join('.')}: ${r.message}`)
    .join('\n');

const models: [string, () => Model | Promise<Model>][] = [
  ['blog example', blogModel],
  ['blog example as shipped, with its access rules', blogModelWithRules],
  ['uuid ids and every field type', allTypesModel],
  ['the all-types filter fixture', filterFixtureModel],
];

for (const backend of BACKENDS) {
  for (const [label, load] of models) {
    describe(`OpenAPI document states every bound (OWASP API4): ${label} (${backend})`, () => {
      let server: TestServer;
      let text: string;
      let document: any;
      let results: ISpectralDiagnostic[];

      before(async () => {
        // With the default rate limit (which startTestServer turns off): the document declares it.
        server = await startTestServer(await load(), backend, { rateLimit: DEFAULT_RATE_LIMIT });
        text = await (await server.fetch('/openapi.json')).text();
        document = JSON.parse(text);
        results = await lint(text);
      });
      after(() => server.close());

      test('no string without maxLength, array without maxItems, integer without format and bounds', () => {
        const found = errorsOf(results, BOUND_RULES);
        assert.deepEqual(found, [], `bound errors:\n${show(found)}`);
      });

      test('every other OWASP error is one a later issue owns', () => {
        const open = document.components.securitySchemes === undefined;
        const allowed = (code: string) => code in REMAINING || (open && code in WITHOUT_AUTH);
        const unowned = results.filter((r) => r.severity === ERROR && !allowed(String(r.code)));
        assert.deepEqual(unowned, [], `errors no issue owns:\n${show(unowned)}`);
      });

      test('every operation declares 405 with Allow, 408, 414 and 431', () => {
        const operations = documentedOperations(document);
        assert.ok(operations.length > 2);
        const expected = { 405: 'KILN_METHOD_NOT_ALLOWED', 408: 'KILN_REQUEST_TIMEOUT', 414: 'KILN_URI_TOO_LONG', 431: 'KILN_HEADERS_TOO_LARGE' };
        for (const operation of operations) {
          const [method, path] = operation.split(' ') as [string, string];
          const responses = document.paths[path][method.toLowerCase()].responses;
          for (const [status, code] of Object.entries(expected)) {
            assert.deepEqual(responses[status], { $ref: `#/components/responses/${code}` }, `${operation} ${status}`);
          }
        }
        const notAllowed = document.components.responses.KILN_METHOD_NOT_ALLOWED;
        assert.deepEqual(notAllowed.headers.Allow, { $ref: '#/components/headers/Allow' });
        assert.equal(notAllowed.content['application/problem+json'].example.code, 'KILN_METHOD_NOT_ALLOWED');
      });
    });
  }

  describe(`the bounds the document states are the server's (${backend})`, () => {
    let server: TestServer;
    let document: any;
    let check: ResponseChecker;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      document = await (await server.fetch('/openapi.json')).json();
      check = new ResponseChecker(document);
    });
    after(() => server.close());

    test('a method the path does not serve is the documented 405, with Allow', async () => {
      const res = await server.fetch('/v1/posts', { method: 'DELETE' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'GET, HEAD, POST');
      // The 405 is declared on the operations of the path; the answer must fit it.
      const problem = await check.check('GET', '/v1/posts', res);
      assert.equal(problem.code, 'KILN_METHOD_NOT_ALLOWED');
    });

    test('headers above the limit are the documented 431', async () => {
      const res = await server.fetch('/v1/tags', { headers: { 'x-padding': 'a'.repeat(20_000) } });
      assert.equal(res.status, 431);
      const problem = await check.check('GET', '/v1/tags', res);
      assert.equal(problem.code, 'KILN_HEADERS_TOO_LARGE');
    });

    test('a text field without its own maxLength takes the documented default, and not a character more', async () => {
      const max = document.components.schemas.PostsCreate.properties.body.maxLength;
      assert.equal(max, 100000, 'KILN_TEXT_MAX_LENGTH defaults to 100000');
      assert.equal(document.components.schemas.Posts.properties.body.maxLength, max, 'the output states the same bound');
      const user = await server.fetch('/v1/users', { method: 'POST', json: { email: 'len@example.com', name: 'Len' } });
      assert.equal(user.status, 201);
      const authorId = (await user.json()).data.id;
      const tooLong = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Long', body: 'x'.repeat(max + 1), authorId } });
      const problem = await expectProblem(tooLong, 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [['/body', 'maxLength']],
      );
      const longest = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Longest', body: 'x'.repeat(max), authorId } });
      assert.equal(longest.status, 201);
      await check.check('POST', '/v1/posts', longest);
    });
  });

  describe(`the bounds follow the settings (${backend})`, () => {
    let server: TestServer;
    let document: any;
    const settings = {
      textMaxLength: 321,
      includeLimit: 7,
      includeMaxDepth: 2,
      includeMaxRows: 4321,
      pageDefaultLimit: 5,
      pageMaxLimit: 50,
      bulkMaxItems: 12,
      bodyLimit: 65432,
      maxHeaderSize: 8765,
    };

    before(async () => {
      server = await startTestServer(await blogModel(), backend, settings);
      document = await (await server.fetch('/openapi.json')).json();
    });
    after(() => server.close());

    test('schemas: text, included lists, pages and bulk bodies', () => {
      const { Posts, PostsCreate, Users, Comments, Page } = document.components.schemas;
      assert.equal(Posts.properties.body.maxLength, 321);
      assert.equal(PostsCreate.properties.body.maxLength, 321);
      assert.equal(PostsCreate.properties.title.maxLength, 200, 'a declared maxLength wins');
      assert.equal(Posts.properties.comments.maxItems, 7);
      assert.equal(PostsCreate.properties.tags.maxItems, 1000, 'the ids one manyToMany write may link');
      assert.equal(Page.properties.limit.maximum, 50);
      const list = document.paths['/v1/posts'].get.responses['200'].content['application/json'].schema;
      assert.equal(list.properties.data.maxItems, 50);
      const bulk = document.paths['/v1/posts/bulk'].post;
      assert.equal(bulk.requestBody.content['application/json'].schema.maxItems, 12);
      assert.equal(bulk.responses['201'].content['application/json'].schema.properties.data.maxItems, 12);
      assert.equal(document.components.parameters.IfMatch.schema.maxLength, 8765);
      assert.deepEqual(Users.properties._truncated, {
        type: 'array',
        items: { type: 'string', enum: ['posts', 'comments'] },
        uniqueItems: true,
        maxItems: 2,
        description:
          'Relations whose included list was cut at the include limit (KILN_INCLUDE_LIMIT per parent): the array holds the first records only; list the related resource with a filter to see the rest.',
      });
      assert.deepEqual(Posts.properties._truncated.items.enum, ['comments', 'tags']);
      assert.equal(Comments.properties._truncated, undefined, 'only belongsTo relations: nothing to cut');
      assert.equal(PostsCreate.properties._truncated, undefined, 'an output property only');
    });

    test('descriptions state the client-controlled bounds in words', () => {
      const info = document.info.description;
      for (const words of [
        'at most 65432 bytes',
        'at most 321 characters',
        '1 to 12 records',
        '5 when not given, at most 50',
        'at most 2 levels',
        'at most 7 records per parent',
        '`_truncated`',
        'more than 4321 records at worst is refused with 400 `KILN_QUERY_INVALID` naming `include` or `limit`',
      ]) {
        assert.ok(info.includes(words), `info.description lacks "${words}"`);
      }
      const list = document.paths['/v1/posts'].get;
      assert.match(list.description, /`limit` defaults to 5, at most 50/);
      assert.match(list.description, /more than 4321 records at worst/);
      const include = list.parameters.find((p: { name?: string }) => p.name === 'include');
      assert.match(include.description, /up to 2 levels/);
      assert.match(include.description, /at most 7 records per parent/);
      assert.match(include.description, /more than 4321 records at worst is refused with 400 `KILN_QUERY_INVALID`/);
      assert.match(document.components.parameters.limit.description, /5 when not given, at most 50/);
      assert.match(document.paths['/v1/posts/bulk'].post.description, /1 to 12 records/);
      assert.match(document.paths['/v1/posts'].post.requestBody.description, /at most 65432 bytes/);
    });
  });
}

describe('the OWASP lint', () => {
  test('does catch a missing bound', async () => {
    const server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite');
    try {
      const doc = await (await server.fetch('/openapi.json')).json();
      delete doc.components.schemas.Problem.properties.detail.maxLength;
      delete doc.components.schemas.Posts.properties.comments.maxItems;
      delete doc.components.schemas.Page.properties.total.format;
      delete doc.components.parameters.limit.schema.maximum;
      // Spectral reports each use of a component too (a response, or a relation's `items`/`anyOf` that
      // refers to the schema); where the bound is missing is what matters.
      const throughReference = (path: readonly (string | number)[]) => path.includes('items') || path.includes('anyOf');
      const found = errorsOf(await lint(JSON.stringify(doc)), BOUND_RULES).filter(
        (r) => r.path[0] === 'components' && r.path[1] !== 'responses' && !throughReference(r.path),
      );
      assert.deepEqual(found.map((r) => `${r.code} ${r.path.join('.')}`).sort(), [
        'owasp:api4:2023-array-limit components.schemas.Posts.properties.comments',
        'owasp:api4:2023-integer-format components.schemas.Page.properties.total',
        'owasp:api4:2023-integer-limit components.parameters.limit.schema',
        'owasp:api4:2023-string-limit components.schemas.Problem.properties.detail',
      ]);
    } finally {
      await server.close();
    }
  });
});
