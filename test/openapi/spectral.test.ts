import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ISpectralDiagnostic, type RulesetDefinition, Spectral } from '@stoplight/spectral-core';
import { oas } from '@stoplight/spectral-rulesets';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Model } from '../../src/model/ir.js';
import { blogModel, blogModelWithRules } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { allTypesModel, collidingNamesModel } from './models.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Spectral's `spectral:oas` ruleset (its recommended rules, as `extends: spectral:oas`) over the document exactly as served. */
async function lint(text: string): Promise<ISpectralDiagnostic[]> {
  const spectral = new Spectral();
  spectral.setRuleset({ extends: [[oas as RulesetDefinition, 'recommended']] });
  return spectral.run(text);
}

const show = (results: ISpectralDiagnostic[]) => results.map((r) => `${r.severity} ${r.code} ${r.path.join('.')}: ${r.message}`).join('\n');

/** Every `examples` and `default` inside a schema, with the schema it sits in (Spectral checks `example` only). */
function annotated(node: unknown, at: string, out: { at: string; schema: Record<string, unknown>; value: unknown }[]): typeof out {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) annotated(item, `${at}/${i}`, out);
  } else if (node && typeof node === 'object') {
    const schema = node as Record<string, unknown>;
    const isSchema = 'type' in schema || 'enum' in schema || 'format' in schema;
    if (isSchema && Array.isArray(schema.examples)) for (const value of schema.examples) out.push({ at: `${at}/examples`, schema, value });
    if (isSchema && 'default' in schema) out.push({ at: `${at}/default`, schema, value: schema.default });
    for (const [key, value] of Object.entries(schema)) annotated(value, `${at}/${key}`, out);
  }
  return out;
}

const models: [string, () => Model | Promise<Model>][] = [
  ['blog example', blogModel],
  ['blog example as shipped, with its access rules', blogModelWithRules],
  ['uuid ids and every field type', allTypesModel],
  ['resource names that collide with generated names', collidingNamesModel],
];

for (const backend of BACKENDS) {
  for (const [label, load] of models) {
    describe(`OpenAPI document lints clean: ${label} (${backend})`, () => {
      let server: TestServer;
      let text: string;
      let document: any;

      before(async () => {
        server = await startTestServer(await load(), backend);
        const res = await server.fetch('/openapi.json');
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        text = await res.text();
        document = JSON.parse(text);
      });
      after(() => server.close());

      test('spectral:oas reports no error and no warning', async () => {
        const results = await lint(text);
        assert.deepEqual(
          results.filter((r) => r.severity === 0),
          [],
          `errors:\n${show(results)}`,
        );
        assert.deepEqual(results, [], `warnings:\n${show(results)}`);
      });

      test('it is OpenAPI 3.1 and every operation has a unique operationId, a tag and a summary', () => {
        assert.equal(document.openapi, '3.1.0');
        const ids: string[] = [];
        // Authentication's routes (tag `auth`) are counted apart: their ids look like generated ones (`getAuthMe`).
        const notAuth: string[] = [];
        for (const item of Object.values<any>(document.paths)) {
          for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
            const op = item[method];
            if (!op) continue;
            ids.push(op.operationId);
            if (op.tags[0] !== 'auth') notAuth.push(op.operationId);
            assert.equal(op.tags.length, 1);
            assert.equal(typeof op.summary, 'string');
          }
        }
        assert.equal(new Set(ids).size, ids.length, `duplicate operationIds: ${ids.join(', ')}`);
        // One tag per resource, one for the health probes (/healthz, /readyz), and one for authentication's
        // routes when the model has accounts; custom routes besides.
        const resources = document.tags.filter((t: { name: string }) => t.name !== 'health' && t.name !== 'auth').length;
        // Eight generated operations per resource: the seven of REST and its change stream (GET /v1/{resource}/events).
        const generated = /^(list|get|create|createMany|update|replace|delete)[A-Z]|^stream[A-Z]\w*Events$/;
        const custom = notAuth.filter((id) => /^(get|post|put|patch|delete)[A-Z]/.test(id) && !generated.test(id)).length;
        assert.equal(notAuth.length, resources * 8 + 2 + custom);
        // Problem and Page, then per resource: the full read, Create, Update, Replace and Selection.
        // AppProblem joins them when a custom route declares an error code of the app's own.
        const appProblem = 'AppProblem' in document.components.schemas ? 1 : 0;
        assert.equal(Object.keys(document.components.schemas).length, 2 + resources * 5 + appProblem, 'no schema replaced another');
      });

      test('every schema example and default validates against its schema', () => {
        const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
        const found = annotated(document.components.schemas, '#/components/schemas', []);
        assert.ok(found.length > 0 || label.startsWith('resource names'), 'the check saw some examples or defaults');
        for (const { at, schema, value } of found) {
          const { examples: _e, default: _d, ...bare } = schema;
          assert.ok(ajv.validate(bare, value), `${at}: ${JSON.stringify(value)} fails ${JSON.stringify(bare)}: ${ajv.errorsText()}`);
        }
      });
    });
  }
}

describe('OpenAPI document details', () => {
  test('the lint does catch a broken document', async () => {
    const server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite');
    try {
      const doc = await (await server.fetch('/openapi.json')).json();
      doc.paths['/v1/tags'].post.requestBody.content['application/json'].example = { name: 7 };
      doc.paths['/v1/tags/{id}'].get.operationId = 'listTags';
      const codes = (await lint(JSON.stringify(doc))).filter((r) => r.severity === 0).map((r) => r.code);
      assert.deepEqual([...new Set(codes)].sort(), ['oas3-valid-media-example', 'operation-operationId-unique']);
    } finally {
      await server.close();
    }
  });

  test('names that would collide get numbered schemas and operation ids', async () => {
    const server = await startTestServer(collidingNamesModel(), BACKENDS[0] ?? 'pglite');
    try {
      const doc = await (await server.fetch('/openapi.json')).json();
      assert.deepEqual(Object.keys(doc.components.schemas).slice(0, 6), ['Problem', 'Page', 'Page2', 'Page2Create', 'Page2Update', 'Page2Replace']);
      assert.equal(doc.components.schemas.Problem.properties.code.type, 'string', 'the Problem schema is not replaced by the resource');
      assert.equal(doc.paths['/v1/posts/bulk'].post.operationId, 'createManyPosts');
      assert.equal(doc.paths['/v1/many-posts'].post.operationId, 'createManyPosts2');
      assert.equal(doc.paths['/v1/posts-create'].get.operationId, 'listPostsCreate');
      assert.ok(doc.components.schemas.PostsCreate2, 'postsCreate gets PostsCreate2 since posts has PostsCreate');
    } finally {
      await server.close();
    }
  });

  test('the prefix and the public URL of the settings are the ones in the document, and it still lints clean', async () => {
    const server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite', { apiPrefix: '/api', publicUrl: 'https://api.example.com/' });
    try {
      const text = await (await server.fetch('/openapi.json')).text();
      const doc = JSON.parse(text);
      assert.deepEqual(doc.servers, [{ url: 'https://api.example.com', description: 'This server' }]);
      assert.deepEqual(Object.keys(doc.paths).slice(0, 3), ['/api/users', '/api/users/bulk', '/api/users/{id}']);
      assert.equal((await server.fetch('/api/users')).status, 200);
      assert.deepEqual(await lint(text), []);
    } finally {
      await server.close();
    }
  });

  test('an example longer than the configured text maximum is left out; computed defaults are not shown as values', async () => {
    // The model compiler refuses an example its field refuses; KILN_TEXT_MAX_LENGTH is known only when serving.
    const blog = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite', { textMaxLength: 20 });
    try {
      const doc = await (await blog.fetch('/openapi.json')).json();
      const { Posts, PostsCreate } = doc.components.schemas;
      assert.equal(Posts.properties.body.maxLength, 20);
      assert.equal(Posts.properties.body.examples, undefined, 'the 37-character example no longer fits');
      assert.equal(PostsCreate.properties.body.examples, undefined);
      assert.deepEqual(Posts.properties.title.examples, ['Notes on the Analytical Engine'], 'its own maxLength of 200 applies');
      assert.deepEqual(await lint(JSON.stringify(doc)), []);
    } finally {
      await blog.close();
    }
    const server = await startTestServer(allTypesModel(), BACKENDS[0] ?? 'pglite');
    try {
      const doc = await (await server.fetch('/openapi.json')).json();
      const { Things, ThingsCreate } = doc.components.schemas;
      assert.deepEqual(Things.properties.label.examples, ['a label']);
      assert.equal(ThingsCreate.properties.at.default, undefined, '"now" is computed by the database');
      assert.equal(ThingsCreate.properties.token.default, undefined, '"random" is computed by the database');
      assert.equal(ThingsCreate.properties.price.default, '0.00');
    } finally {
      await server.close();
    }
  });
});
