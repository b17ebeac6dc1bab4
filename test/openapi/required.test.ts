import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { documentOf } from './document-options.js';
import { allTypesModel } from './models.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const JSON_MEDIA = 'application/json';

describe('read schemas list what a full read always holds as required', () => {
  test('every readable field, the keys and timestamps; not hidden fields, not relations', async () => {
    const { Things, ThingsSelection } = documentOf(allTypesModel()).components.schemas;
    assert.deepEqual(Things.required, [
      'id',
      'label',
      'notes',
      'site',
      'mail',
      'ref',
      'qty',
      'big',
      'price',
      'ratio',
      'active',
      'day',
      'at',
      'kind',
      'meta',
      'token',
      'score',
      'code',
      'ownerId',
      'createdAt',
      'updatedAt',
    ]);
    assert.deepEqual(ThingsSelection.required, ['id']);
    assert.deepEqual(Object.keys(ThingsSelection.properties), Object.keys(Things.properties), 'a selection may hold any of them');
    const { Users } = documentOf(await blogModel()).components.schemas;
    assert.deepEqual(Users.required, ['id', 'email', 'name', 'roles', 'verified', 'disabled', 'createdAt', 'updatedAt'], 'passwordHash is hidden');
  });

  test('nullable fields are required but nullable; a resource without timestamps has none to require', () => {
    const { Things, Labels } = documentOf(allTypesModel()).components.schemas;
    assert.ok(Things.required.includes('notes'));
    assert.deepEqual(Things.properties.notes.type, ['string', 'null']);
    assert.ok(Things.required.includes('ownerId'));
    assert.equal(Things.required.includes('secret'), false);
    for (const relation of ['owner', 'labels', '_truncated']) assert.equal(Things.required.includes(relation), false, relation);
    assert.deepEqual(Labels.required, ['id', 'name']);
  });

  test('GET answers may be either shape (they take `fields`); write answers are always the full read', async () => {
    const { paths } = documentOf(await blogModel());
    const data = (response: any) => response.content[JSON_MEDIA].schema.properties.data;
    const either = { anyOf: [{ $ref: '#/components/schemas/Posts' }, { $ref: '#/components/schemas/PostsSelection' }] };
    assert.deepEqual(data(paths['/v1/posts'].get.responses['200']).items, either);
    assert.deepEqual(data(paths['/v1/posts/{id}'].get.responses['200']), either);
    const full = { $ref: '#/components/schemas/Posts' };
    assert.deepEqual(data(paths['/v1/posts'].post.responses['201']), full);
    assert.deepEqual(data(paths['/v1/posts/bulk'].post.responses['201']).items, full);
    assert.deepEqual(data(paths['/v1/posts/{id}'].patch.responses['200']), full);
    assert.deepEqual(data(paths['/v1/posts/{id}'].put.responses['200']), full);
    assert.match(paths['/v1/posts'].get.parameters.find((p: any) => p.name === 'fields').description, /they match `PostsSelection`, not the full read `Posts`/);
  });
});

for (const backend of BACKENDS) {
  describe(`real reads hold what the read schemas require (${backend})`, () => {
    let server: TestServer;
    let validate: (schema: string, value: unknown) => boolean;

    before(async () => {
      server = await startTestServer(allTypesModel(), backend);
      const doc = await (await server.fetch('/openapi.json')).json();
      const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
      ajv.addSchema({ $id: 'doc', components: doc.components });
      validate = (schema, value) => ajv.validate({ $ref: `doc#/components/schemas/${schema}` }, value);
      const owner = await (await server.fetch('/v1/owners', { method: 'POST', json: { handle: 'ada' } })).json();
      assert.equal((await server.fetch('/v1/things', { method: 'POST', json: { label: 'nulls' } })).status, 201);
      assert.equal((await server.fetch('/v1/things', { method: 'POST', json: { label: 'owned', ownerId: owner.data.id, meta: [1] } })).status, 201);
    });
    after(() => server.close());

    test('a full read, with nulls and an include, matches the full schema', async () => {
      const { data } = await (await server.fetch('/v1/things?include=owner,labels')).json();
      assert.equal(data.length, 2);
      for (const record of data) assert.ok(validate('Things', record), JSON.stringify(record));
      assert.equal(data[0].notes, null, 'a nullable field is present, as null');
    });

    test('a read with `fields` matches the selection schema only: the full one would refuse it', async () => {
      const { data } = await (await server.fetch('/v1/things?fields=label')).json();
      assert.deepEqual(Object.keys(data[0]).sort(), ['id', 'label']);
      assert.ok(validate('ThingsSelection', data[0]));
      assert.equal(validate('Things', data[0]), false);
    });
  });
}
