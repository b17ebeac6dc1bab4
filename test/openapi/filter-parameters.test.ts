import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { operatorsFor } from '../../src/core/filter-operators.js';
import type { Model } from '../../src/model/ir.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { documentOf } from './document-options.js';
import { allTypesModel } from './models.js';

const UUID = '0d9c1b7e-3a5f-4c2e-8b6d-1f0a9e8d7c6b';
const filtersOf = (doc: any, path: string) => doc.paths[path].get.parameters.filter((p: any) => p.name && !['fields', 'include', 'sort'].includes(p.name));
const byName = (doc: any, path: string) => new Map<string, any>(filtersOf(doc, path).map((p: any) => [p.name, p]));

describe('every filter operator of every readable field is a parameter of the list', () => {
  test('one per operator of the table, for each type; none for hidden fields', () => {
    const model = allTypesModel();
    const doc = documentOf(model);
    for (const r of model.resources) {
      const expected = r.fields.filter((f) => !f.hidden).flatMap((f) => operatorsFor(f).map((op) => (op === 'eq' ? f.name : `${f.name}[${op}]`)));
      assert.deepEqual(
        filtersOf(doc, `/v1/${r.path}`).map((p: any) => p.name),
        expected,
        r.name,
      );
    }
  });

  test('a few parameters written out by hand', () => {
    const things = byName(documentOf(allTypesModel()), '/v1/things');
    assert.deepEqual(things.get('label[icontains]'), {
      name: 'label[icontains]',
      in: 'query',
      required: false,
      description: 'Only records whose `label` contains the value, ignoring case.',
      schema: { type: 'string', maxLength: 30 },
    });
    assert.deepEqual(things.get('kind[notIn]'), {
      name: 'kind[notIn]',
      in: 'query',
      required: false,
      description: 'Only records whose `kind` equals none of the values (1 to 100, comma-separated); matches null.',
      style: 'form',
      explode: false,
      schema: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 1, maxItems: 100 },
    });
    assert.deepEqual(things.get('meta[isNull]'), {
      name: 'meta[isNull]',
      in: 'query',
      required: false,
      description: 'Only records whose `meta` is null (`true`) or is not (`false`).',
      schema: { type: 'boolean' },
    });
    assert.deepEqual(things.get('qty[gte]')?.schema, { type: 'integer', format: 'int32', minimum: -2147483647, maximum: 2147483647 });
    assert.deepEqual(things.get('day[lt]')?.schema, { type: 'string', format: 'date', maxLength: 10 });
    assert.equal(things.get('active')?.description, 'Only records whose `active` equals the value (also written `[eq]`); never matches null.');
    for (const absent of ['meta', 'active[gt]', 'kind[contains]', 'secret', 'secret[isNull]', 'label[eq]', 'owner.handle']) {
      assert.equal(things.has(absent), false, absent);
    }
    const posts = byName(documentOf(allTypesModel()), '/v1/owners');
    assert.deepEqual(posts.get('id[in]')?.schema, { type: 'array', items: { type: 'string', format: 'uuid', maxLength: 36 }, minItems: 1, maxItems: 100 });
  });

  test('the blog document stays a sane size with them', async () => {
    const size = JSON.stringify(documentOf(await blogModel())).length;
    // 178 kB before filter parameters, about 230 kB with them (four resources): a bound catches a blow-up.
    assert.ok(size < 300_000, `${size} bytes`);
  });
});

/** A value each documented filter parameter accepts, from its schema alone. */
function sample(schema: any): string {
  if (schema.type === 'array') return `${sample(schema.items)},${sample(schema.items)}`;
  if (schema.enum) return schema.enum[0];
  if (schema.format === 'uuid') return UUID;
  if (schema.format === 'date') return '2026-01-02';
  if (schema.format === 'date-time') return '2026-01-02T03:04:05Z';
  if (schema.type === 'boolean') return 'true';
  if (schema.type === 'integer' || schema.type === 'number' || schema.pattern) return '1';
  return 'ab';
}

const models: [string, () => Model | Promise<Model>][] = [
  ['uuid ids and every field type', allTypesModel],
  ['blog example', blogModel],
];

for (const backend of BACKENDS) {
  for (const [label, load] of models) {
    describe(`the server takes every documented filter parameter: ${label} (${backend})`, () => {
      let server: TestServer;
      let doc: any;
      before(async () => {
        server = await startTestServer(await load(), backend);
        doc = await (await server.fetch('/openapi.json')).json();
      });
      after(() => server.close());

      test('each one, with a value its schema allows, answers 200', async () => {
        let tried = 0;
        // The lists of the resources (the auth routes take no filters; an event stream takes the same ones, and lasts until closed).
        const lists = Object.keys(doc.paths).filter(
          (p) => p.startsWith('/v1/') && !p.startsWith('/v1/auth/') && !p.includes('{') && !p.endsWith('/bulk') && !p.endsWith('/events'),
        );
        for (const path of lists) {
          for (const parameter of filtersOf(doc, path)) {
            const query = `${encodeURIComponent(parameter.name)}=${encodeURIComponent(sample(parameter.schema))}`;
            const res = await server.fetch(`${path}?${query}`);
            assert.equal(res.status, 200, `GET ${path}?${query}: ${await res.text()}`);
            tried++;
          }
        }
        assert.ok(tried > 100, `${tried} parameters tried`);
      });
    });
  }

  test(`an operator the document does not list for a field is refused (${backend})`, async () => {
    const server = await startTestServer(allTypesModel(), backend);
    try {
      const body = await expectProblem(await server.fetch('/v1/things?active%5Bgt%5D=true'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(body.errors, [
        { path: 'active[gt]', code: 'operator', message: 'operator "gt" does not apply to "active", a true-or-false field; use one of eq, ne, isNull' },
      ]);
    } finally {
      await server.close();
    }
  });
}
