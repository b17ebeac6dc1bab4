import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { compileModel } from '../../src/model/compile.js';
import { compileOrThrow, loadModel } from '../../src/model/load.js';
import { buildOpenApi } from '../../src/openapi/document.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer } from '../helpers/server.js';
import { documentOf, documentOptions } from './document-options.js';

const YAML_PATH = resolve(import.meta.dirname, '../../examples/blog/kiln.yaml');
const resources = { notes: { fields: { text: { type: 'string' } } } };

const BLOG_INFO = {
  title: 'Blog API',
  version: '1.0.0',
  contact: { name: 'Blog team', email: 'blog@example.com' },
  license: { name: 'MIT', identifier: 'MIT' },
};

describe('the OpenAPI info comes from the model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-info-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [form, load] of [
    ['TypeScript', blogModel],
    ['YAML', () => loadModel(YAML_PATH)],
  ] as const) {
    test(`the blog example's api option, written in ${form}`, async () => {
      const { info } = documentOf(await load());
      const { description, ...rest } = info;
      assert.deepEqual(rest, BLOG_INFO);
      assert.ok(description.startsWith('The blog example: users write posts, readers comment, posts carry tags.\n\nREST API served by Kiln.'), description);
      assert.match(description, /Bounds: a request body is at most 1048576 bytes/, 'the notes Kiln adds follow the model description');
    });
  }

  test('without an api option: "Kiln API" 1.0.0, and no contact or license made up', () => {
    const { info } = documentOf(compileOrThrow('plain', { resources }));
    assert.equal(info.title, 'Kiln API');
    assert.equal(info.version, '1.0.0');
    assert.ok(info.description.startsWith('REST API served by Kiln.'));
    assert.equal(info.contact, undefined);
    assert.equal(info.license, undefined);
  });

  test('a license given by url, and a partial api option keeping the other defaults', () => {
    const model = compileOrThrow('partial', { api: { version: '2026-01', license: { name: 'Proprietary', url: 'https://example.com/terms' } }, resources });
    assert.deepEqual(model.api, { title: 'Kiln API', version: '2026-01', license: { name: 'Proprietary', url: 'https://example.com/terms' } });
    const { info } = documentOf(model);
    assert.deepEqual(info.license, { name: 'Proprietary', url: 'https://example.com/terms' });
    assert.equal(info.version, '2026-01');
  });

  test('the served document and the /docs page carry the title; the server options still override it', async () => {
    const model = await blogModel();
    const server = await startTestServer(model, BACKENDS[0] ?? 'pglite');
    try {
      const doc = await (await server.fetch('/openapi.json')).json();
      assert.equal(doc.info.title, 'Blog API');
      assert.deepEqual(doc.info.contact, BLOG_INFO.contact);
      assert.match(await (await server.fetch('/docs')).text(), /<title>Blog API — API reference<\/title>/);
    } finally {
      await server.close();
    }
    assert.equal(documentOf(model).info.title, 'Blog API');
    const overridden = buildOpenApi(model, { ...documentOptions(), title: 'Internal', version: '9' }) as { info: { title: string; version: string } };
    assert.deepEqual([overridden.info.title, overridden.info.version], ['Internal', '9']);
  });

  test('a YAML version written as a number is refused with the hint to quote it', async () => {
    const path = join(dir, 'kiln.yaml');
    writeFileSync(path, 'api:\n  version: 2.1\nresources:\n  notes:\n    fields:\n      text: { type: string }\n');
    await assert.rejects(loadModel(path), {
      message:
        `${path}: the model has 1 problem:\n` +
        '  - api.version: version must be a non-empty string, not 2.1\n' +
        '    fix: e.g. version: "2.1.0" (in YAML, quote it: 2.1 alone is a number)',
    });
  });
});

describe('a bad api option is refused with what to write instead', () => {
  const problemsOf = (api: unknown) => {
    const result = compileModel({ api, resources });
    assert.equal(result.ok, false);
    return result.ok ? [] : result.problems;
  };

  test('not an object', () => {
    assert.deepEqual(problemsOf('Blog API'), [
      { path: 'api', message: 'api must be an object, not "Blog API"', hint: 'e.g. api: { title: "Bookshop API", version: "2.1.0" }' },
    ]);
  });

  test('unknown keys, wrong types, a bad URL and email, a license with both identifier and url, and no name', () => {
    assert.deepEqual(
      problemsOf({
        titel: 'Blog',
        title: '',
        description: 7,
        contact: { name: 'Team', url: 'ftp://example.com', email: 'nobody', phone: '123' },
        license: { identifier: 'MIT', url: 'https://opensource.org/license/mit' },
      }),
      [
        { path: 'api.titel', message: 'unknown api option "titel"', hint: 'use one of: title, version, description, contact, license' },
        { path: 'api.title', message: 'title must be a non-empty string, not ""', hint: 'e.g. title: "Bookshop API"' },
        { path: 'api.description', message: 'description must be a string, not 7', hint: 'e.g. description: "Orders and stock of the bookshop."' },
        {
          path: 'api.contact.url',
          message: 'url must be an absolute http or https URL, not "ftp://example.com"',
          hint: 'e.g. url: "https://example.com/support"',
        },
        { path: 'api.contact.email', message: 'email must be an email address, not "nobody"', hint: 'e.g. email: "api@example.com"' },
        { path: 'api.contact.phone', message: 'unknown api.contact option "phone"', hint: 'use one of: name, url, email' },
        { path: 'api.license.name', message: 'a license needs a name', hint: 'e.g. license: { name: "Apache 2.0", identifier: "Apache-2.0" }' },
        {
          path: 'api.license',
          message: 'a license has an identifier or a url, not both',
          hint: 'keep the SPDX identifier (e.g. "Apache-2.0") and remove url, or the reverse',
        },
      ],
    );
  });

  test('contact and license that are not objects', () => {
    assert.deepEqual(problemsOf({ contact: 'me@example.com', license: 'MIT' }), [
      { path: 'api.contact', message: 'contact must be an object, not "me@example.com"', hint: 'e.g. contact: { name: "API team", email: "api@example.com" }' },
      { path: 'api.license', message: 'license must be an object, not "MIT"', hint: 'e.g. license: { name: "Apache 2.0", identifier: "Apache-2.0" }' },
    ]);
  });

  test('an unknown top-level key names "api" among the known ones', () => {
    const result = compileModel({ apis: {}, resources });
    assert.deepEqual(result.ok ? [] : result.problems, [
      { path: 'apis', message: 'unknown top-level key "apis"', hint: 'the model has only "resources", "api", "auth", "roles"' },
    ]);
  });
});
