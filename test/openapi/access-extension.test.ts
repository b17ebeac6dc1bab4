import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { type ISpectralDiagnostic, type RulesetDefinition, Spectral } from '@stoplight/spectral-core';
import owasp from '@stoplight/spectral-owasp-ruleset';
import { oas } from '@stoplight/spectral-rulesets';
import { resolveSettings } from '../../src/config/settings.js';
import { compileOrThrow } from '../../src/model/load.js';
import { buildOpenApi } from '../../src/openapi/document.js';
import { as } from '../helpers/callers.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { documentOptions } from './document-options.js';
import { ResponseChecker } from './document-tools.js';

const SIGNED_IN = [{ bearerAuth: [] }, { cookieAuth: [] }, { apiKeyAuth: [] }];
const ANYONE = [...SIGNED_IN, {}];
/** The generated operations of a resource: method, path suffix, and the rule they follow. */
const OPERATIONS = [
  ['get', '', 'list'],
  ['post', '', 'create'],
  ['post', '/bulk', 'create'],
  ['get', '/{id}', 'read'],
  ['patch', '/{id}', 'update'],
  ['put', '/{id}', 'update'],
  ['delete', '/{id}', 'delete'],
] as const;

const POSTS_READ = "status == 'published' || authorId == auth.id || auth.roles has 'editor'";
const POSTS_UPDATE = "authorId == auth.id || auth.roles has 'editor'";

/** Accounts, three roles, and a resource for each way an operation can be reached. */
const declaration = () => ({
  api: { title: 'Rules', version: '1.0.0', contact: { name: 'Kiln tests', url: 'https://example.com/kiln' } },
  auth: { accounts: { resource: 'users', login: 'email' } },
  roles: { author: {}, editor: { inherits: 'author' }, admin: { everything: true } },
  resources: {
    users: {
      access: { read: 'authenticated' },
      fields: { email: { type: 'string', format: 'email', unique: true, maxLength: 100, read: 'id == auth.id', write: ['admin'] } },
    },
    posts: {
      access: { read: POSTS_READ, create: 'authenticated', update: POSTS_UPDATE, delete: ['admin'] },
      fields: {
        title: { type: 'string', maxLength: 100 },
        status: { type: 'enum', values: ['draft', 'published'], default: 'draft' },
        author: { type: 'belongsTo', target: 'users', default: 'auth.id' },
      },
    },
    tags: { access: { read: 'public', create: ['editor'] }, fields: { name: { type: 'string', maxLength: 40 } } },
    // Anyone may create a note, but only an admin may pin one: a create open to everyone that can still be 403.
    notes: {
      access: { read: 'public', create: 'public' },
      fields: { text: { type: 'string', maxLength: 100 }, pinned: { type: 'boolean', default: false, write: ['admin'] } },
    },
    // Public by its rule, but the author is the caller: an anonymous create is asked to sign in.
    stamps: {
      access: { read: 'public', create: 'public' },
      fields: { note: { type: 'string', maxLength: 40, nullable: true }, author: { type: 'belongsTo', target: 'users', default: 'auth.id' } },
    },
  },
});

const rulesModel = () => compileOrThrow('rules', declaration());
const withSchemes = (model: ReturnType<typeof rulesModel>): any => buildOpenApi(model, { ...documentOptions(), security: resolveSettings({}) });

const all = { anonymous: 'all', authenticated: 'all', author: 'all', editor: 'all', admin: 'all' };
const adminOnly = { anonymous: 'none', authenticated: 'none', author: 'none', editor: 'none', admin: 'all' };

/** Per resource and rule: the extension, whether anonymous callers may call it, and whether it can answer 403. */
const EXPECTED: Record<string, Record<string, { ext: object; anonymous: boolean; forbidden: boolean }>> = {
  users: {
    list: { ext: { operation: 'list', rule: 'authenticated', roles: { ...all, anonymous: 'none' } }, anonymous: false, forbidden: false },
    read: { ext: { operation: 'read', rule: 'authenticated', roles: { ...all, anonymous: 'none' } }, anonymous: false, forbidden: false },
    create: { ext: { operation: 'create', roles: adminOnly }, anonymous: false, forbidden: true },
    update: { ext: { operation: 'update', roles: adminOnly }, anonymous: false, forbidden: true },
    delete: { ext: { operation: 'delete', roles: adminOnly }, anonymous: false, forbidden: true },
  },
  posts: {
    list: {
      ext: { operation: 'list', rule: POSTS_READ, roles: { anonymous: 'rows', authenticated: 'rows', author: 'rows', editor: 'all', admin: 'all' } },
      anonymous: true,
      forbidden: false,
    },
    read: {
      ext: { operation: 'read', rule: POSTS_READ, roles: { anonymous: 'rows', authenticated: 'rows', author: 'rows', editor: 'all', admin: 'all' } },
      anonymous: true,
      forbidden: false,
    },
    create: { ext: { operation: 'create', rule: 'authenticated', roles: { ...all, anonymous: 'none' } }, anonymous: false, forbidden: false },
    update: {
      ext: { operation: 'update', rule: POSTS_UPDATE, roles: { anonymous: 'none', authenticated: 'rows', author: 'rows', editor: 'all', admin: 'all' } },
      anonymous: false,
      forbidden: true,
    },
    delete: { ext: { operation: 'delete', rule: '[admin]', roles: adminOnly }, anonymous: false, forbidden: true },
  },
  tags: {
    list: { ext: { operation: 'list', rule: 'public', roles: all }, anonymous: true, forbidden: false },
    read: { ext: { operation: 'read', rule: 'public', roles: all }, anonymous: true, forbidden: false },
    create: { ext: { operation: 'create', rule: '[editor]', roles: { ...adminOnly, editor: 'all' } }, anonymous: false, forbidden: true },
    update: { ext: { operation: 'update', roles: adminOnly }, anonymous: false, forbidden: true },
    delete: { ext: { operation: 'delete', roles: adminOnly }, anonymous: false, forbidden: true },
  },
  notes: {
    list: { ext: { operation: 'list', rule: 'public', roles: all }, anonymous: true, forbidden: false },
    read: { ext: { operation: 'read', rule: 'public', roles: all }, anonymous: true, forbidden: false },
    create: { ext: { operation: 'create', rule: 'public', roles: all }, anonymous: true, forbidden: true },
    update: { ext: { operation: 'update', roles: adminOnly }, anonymous: false, forbidden: true },
    delete: { ext: { operation: 'delete', roles: adminOnly }, anonymous: false, forbidden: true },
  },
  stamps: {
    list: { ext: { operation: 'list', rule: 'public', roles: all }, anonymous: true, forbidden: false },
    read: { ext: { operation: 'read', rule: 'public', roles: all }, anonymous: true, forbidden: false },
    create: { ext: { operation: 'create', rule: 'public', roles: { ...all, anonymous: 'none' } }, anonymous: false, forbidden: false },
    update: { ext: { operation: 'update', roles: adminOnly }, anonymous: false, forbidden: true },
    delete: { ext: { operation: 'delete', roles: adminOnly }, anonymous: false, forbidden: true },
  },
};

describe('x-kiln-access: what each generated operation requires', () => {
  const document = withSchemes(rulesModel());

  test('every generated operation: its rule and reach, a security requirement that agrees, and 401/403 only where they can happen', () => {
    for (const [resource, rules] of Object.entries(EXPECTED)) {
      for (const [method, suffix, rule] of OPERATIONS) {
        const where = `${method.toUpperCase()} /v1/${resource}${suffix}`;
        const op = document.paths[`/v1/${resource}${suffix}`][method];
        const expected = rules[rule] as (typeof rules)[string];
        assert.deepEqual(op['x-kiln-access'], expected.ext, where);
        assert.deepEqual(op.security, expected.anonymous ? ANYONE : SIGNED_IN, where);
        assert.deepEqual(op.responses['401'], { $ref: '#/components/responses/KILN_UNAUTHENTICATED' }, `${where}: a bad credential is a 401 anywhere`);
        assert.deepEqual(op.responses['403'], expected.forbidden ? { $ref: '#/components/responses/KILN_FORBIDDEN' } : undefined, where);
      }
    }
  });

  test('the description begins with who may call the operation, in words', () => {
    assert.ok(
      document.paths['/v1/posts'].get.description.startsWith(
        `**Access** (rule \`${POSTS_READ}\`):\n- any post: editor, admin\n- only posts the rule matches: anonymous, authenticated, author\n\nFilters: `,
      ),
      document.paths['/v1/posts'].get.description,
    );
    assert.equal(
      document.paths['/v1/tags/{id}'].delete.description,
      '**Access** (no rule: only roles granted everything):\n- any tag: admin\n- refused: anonymous, authenticated, author, editor\n\n' +
        'Answers 204. Refused with 409 while other records reference it through a restrict relation.',
    );
    assert.match(
      document.paths['/v1/tags'].post.description,
      /^\*\*Access\*\* \(rule `\[editor\]`\):\n- any tag: editor, admin\n- refused: anonymous, authenticated, author\n\n/,
    );
  });

  test('without auth (no scheme): no security, and 401 only where the rules ask an anonymous caller to sign in', () => {
    const doc: any = buildOpenApi(
      compileOrThrow('no-auth', {
        roles: { editor: {}, admin: { everything: true } },
        resources: {
          tags: { access: { read: 'public', create: ['editor'] }, fields: { name: { type: 'string', maxLength: 40 } } },
          posts: {
            access: { read: "status == 'published' || auth.roles has 'editor'", update: "auth.roles has 'editor' && status == 'draft'" },
            fields: { status: { type: 'enum', values: ['draft', 'published'], default: 'draft' } },
          },
          notes: declaration().resources.notes,
        },
      }),
      documentOptions(),
    );
    assert.equal(doc.components.securitySchemes, undefined);
    const cases: [string, string, boolean, boolean][] = [
      // path, method, 401 (anonymous refused where some signed-in role may act), 403
      ['/v1/tags', 'get', false, false],
      ['/v1/tags', 'post', true, true],
      ['/v1/tags/{id}', 'delete', true, true],
      ['/v1/posts', 'get', false, false],
      ['/v1/posts/{id}', 'patch', true, true],
      ['/v1/notes', 'post', false, true],
    ];
    for (const [path, method, unauthenticated, forbidden] of cases) {
      const op = doc.paths[path][method];
      assert.equal(op.security, undefined, `${method} ${path}`);
      assert.ok(op['x-kiln-access'], `${method} ${path}`);
      assert.equal('401' in op.responses, unauthenticated, `${method} ${path} 401`);
      assert.equal('403' in op.responses, forbidden, `${method} ${path} 403`);
    }
  });

  test('a model without rules has no extension, no 403 and no Access line, and anyone may call it', () => {
    const open: any = withSchemes(
      compileOrThrow('open', {
        auth: { accounts: { resource: 'users', login: 'email' } },
        resources: { users: { fields: { email: { type: 'string', format: 'email', unique: true, maxLength: 100 } } } },
      }),
    );
    assert.doesNotMatch(JSON.stringify(open), /x-kiln-access|\*\*Access\*\*/);
    for (const [method, suffix] of OPERATIONS) {
      const op = open.paths[`/v1/users${suffix}`][method];
      assert.deepEqual(op.security, ANYONE, `${method} ${suffix}`);
      assert.equal(op.responses['403'], undefined, `${method} ${suffix}`);
      assert.ok(op.responses['401'], `${method} ${suffix}: a bad credential is still a 401`);
    }
  });
});

describe('the document with rules lints clean', () => {
  const text = JSON.stringify(withSchemes(rulesModel()));
  const lint = async (ruleset: RulesetDefinition, source: string): Promise<ISpectralDiagnostic[]> => {
    const spectral = new Spectral();
    spectral.setRuleset(ruleset);
    return spectral.run(source);
  };
  const show = (results: ISpectralDiagnostic[]) => results.map((r) => `${r.severity} ${r.code} ${r.path.join('.')}: ${r.message}`).join('\n');

  test('spectral:oas reports no error and no warning', async () => {
    const results = await lint({ extends: [[oas as RulesetDefinition, 'recommended']] }, text);
    assert.deepEqual(results, [], show(results));
  });

  test("Redocly's security-defined rule reports nothing", async () => {
    const config = await createConfig({ rules: { 'security-defined': 'error' } });
    const problems = await lintFromString({ source: text, absoluteRef: 'openapi.json', config });
    assert.deepEqual(
      problems.map((p) => `${p.ruleId}: ${p.message}`),
      [],
    );
  });

  test('the OWASP rules find no error the same model without rules does not have, and nothing on authentication (API2)', async () => {
    const ruleset = ('default' in owasp ? owasp.default : owasp) as unknown as RulesetDefinition;
    const { roles: _roles, ...open } = declaration();
    const unruled = {
      ...open,
      resources: Object.fromEntries(
        Object.entries(open.resources).map(([name, { access: _access, fields }]) => [
          name,
          {
            fields: Object.fromEntries(
              Object.entries<Record<string, unknown>>(fields).map(([field, { read: _read, write: _write, ...rest }]) => [
                field,
                rest.default === 'auth.id' ? { ...rest, default: undefined } : rest,
              ]),
            ),
          },
        ]),
      ),
    };
    const errors = (results: ISpectralDiagnostic[]) => new Set(results.filter((r) => r.severity === 0).map((r) => String(r.code)));
    const withRules = await lint(ruleset, text);
    const without = errors(await lint(ruleset, JSON.stringify(withSchemes(compileOrThrow('open', unruled)))));
    const added = withRules.filter((r) => r.severity === 0 && !without.has(String(r.code)));
    assert.deepEqual(added, [], show(added));
    const api2 = withRules.filter((r) => /^owasp:api2:2023-/.test(String(r.code)) && String(r.code) !== 'owasp:api2:2023-no-credentials-in-url');
    assert.deepEqual(api2, [], show(api2));
  });
});

for (const backend of BACKENDS) {
  describe(`the server answers the 401 and 403 its document lists (${backend})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-access-doc-'));
    let server: TestServer;
    let check: ResponseChecker;
    let document: any;

    before(async () => {
      const seed = join(dir, 'seed.json');
      writeFileSync(
        seed,
        JSON.stringify({
          users: [
            { id: 1, email: 'ada@example.com' },
            { id: 2, email: 'alan@example.com' },
          ],
          posts: [{ id: 1, title: 'Draft', status: 'draft', authorId: 1 }],
          tags: [{ id: 1, name: 'math' }],
        }),
      );
      server = await startTestServer(rulesModel(), backend, { passwordMemoryKib: 8192, passwordTimeCost: 1 }, seed);
      document = await (await server.fetch('/openapi.json')).json();
      check = new ResponseChecker(document);
    });
    after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the served document carries the extension; the auth routes and the probes keep their own security, with none', () => {
      assert.deepEqual(document.paths['/v1/posts/{id}'].delete['x-kiln-access'], EXPECTED.posts?.delete?.ext);
      for (const [path, item] of Object.entries<any>(document.paths)) {
        // Generated routes, the event streams (which follow the list's access) included.
        if (/^\/v1\/(users|posts|tags|notes|stamps)(\/bulk|\/\{id\}|\/events)?$/.test(path)) continue;
        for (const op of Object.values<any>(item)) {
          if (!op?.responses) continue;
          assert.equal(op['x-kiln-access'], undefined, path);
          assert.doesNotMatch(op.description ?? '', /\*\*Access\*\*/, path);
        }
      }
      assert.deepEqual(document.paths['/v1/auth/login'].post.security, [{}]);
      assert.deepEqual(document.paths['/v1/auth/me'].get.security, SIGNED_IN);
      assert.deepEqual(document.paths['/healthz'].get.security, [{}]);
    });

    test('an anonymous create where signed-in callers may create: the documented 401', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Hello' } });
      await expectProblem(res.clone() as Response, 401, 'KILN_UNAUTHENTICATED');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      await check.check('POST', '/v1/posts', res);
    });

    test('a create public by its rule whose author is the caller: anonymous is the documented 401', async () => {
      const res = await server.fetch('/v1/stamps', { method: 'POST', json: {} });
      await expectProblem(res.clone() as Response, 401, 'KILN_UNAUTHENTICATED');
      await check.check('POST', '/v1/stamps', res);
      const signedIn = await server.fetch('/v1/stamps', { method: 'POST', json: {}, headers: as(2) });
      assert.equal(signedIn.status, 201);
      await check.check('POST', '/v1/stamps', signedIn);
    });

    test('a role the rule refuses: the documented 403; anonymous, the documented 401', async () => {
      const author = await server.fetch('/v1/posts/1', { method: 'DELETE', headers: as(1, ['author']) });
      await expectProblem(author.clone() as Response, 403, 'KILN_FORBIDDEN');
      await check.check('DELETE', '/v1/posts/{id}', author);
      const plain = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'logic' }, headers: as(2) });
      await expectProblem(plain.clone() as Response, 403, 'KILN_FORBIDDEN');
      await check.check('POST', '/v1/tags', plain);
      const anonymous = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'logic' } });
      await expectProblem(anonymous.clone() as Response, 401, 'KILN_UNAUTHENTICATED');
      await check.check('POST', '/v1/tags', anonymous);
      const editor = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'logic' }, headers: as(2, ['editor']) });
      assert.equal(editor.status, 201);
    });

    test('a public create that sets a field only admins may write: the documented 403', async () => {
      const res = await server.fetch('/v1/notes', { method: 'POST', json: { text: 'hi', pinned: true } });
      await expectProblem(res.clone() as Response, 403, 'KILN_FORBIDDEN');
      await check.check('POST', '/v1/notes', res);
      assert.equal((await server.fetch('/v1/notes', { method: 'POST', json: { text: 'hi' } })).status, 201);
    });

    test('an operation open to everyone answers anonymous callers, as its security says', async () => {
      assert.deepEqual(document.paths['/v1/tags'].get.security, ANYONE);
      const res = await server.fetch('/v1/tags');
      assert.equal(res.status, 200);
      await check.check('GET', '/v1/tags', res);
      const hidden = await server.fetch('/v1/posts/1');
      await expectProblem(hidden.clone() as Response, 404, 'KILN_NOT_FOUND');
      await check.check('GET', '/v1/posts/{id}', hidden);
    });
  });
}
