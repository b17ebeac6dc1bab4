import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { BLOG_MODEL_PATH, blogModelWithRules } from '../helpers/blog.js';
import { DEFAULT_RATE_LIMIT, startTestServer } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

/** The real CLI in a child process: `openapi` writes the document straight to stdout. */
function kiln(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', ...args],
      { cwd: ROOT, env: { ...process.env, KILN_API_PREFIX: '', KILN_PUBLIC_URL: '', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-openapi-'));

describe('kiln openapi', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints the OpenAPI 3.1.0 document of the model as JSON on stdout', async () => {
    const { code, stdout, stderr } = await kiln(['openapi', '--model', BLOG_MODEL_PATH]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const doc = JSON.parse(stdout);
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Blog API', "from the model's api option");
    for (const path of ['/v1/users', '/v1/posts', '/v1/posts/{id}', '/v1/posts/bulk', '/v1/comments', '/v1/tags/{id}']) assert.ok(doc.paths[path], path);
    assert.deepEqual(
      Object.keys(doc.paths['/v1/posts/{id}'])
        .filter((k) => k !== 'parameters')
        .sort(),
      ['delete', 'get', 'patch', 'put'],
    );
    assert.ok(doc.components.schemas.Posts);
    assert.ok(doc.components.schemas.PostsCreate);
    assert.equal(stdout.endsWith('}\n'), true);
  });

  test('--config sets the prefix and public URL; the environment overrides the file', async () => {
    const config = join(dir, 'settings.json');
    writeFileSync(config, JSON.stringify({ apiPrefix: '/v2', publicUrl: 'https://api.example.com' }));
    const fromFile = JSON.parse((await kiln(['openapi', '--model', BLOG_MODEL_PATH, '--config', config])).stdout);
    assert.ok(fromFile.paths['/v2/posts']);
    assert.equal(fromFile.paths['/v1/posts'], undefined);
    assert.equal(fromFile.servers[0].url, 'https://api.example.com');
    const fromEnv = JSON.parse((await kiln(['openapi', '--model', BLOG_MODEL_PATH, '--config', config], { KILN_API_PREFIX: '/v3' })).stdout);
    assert.ok(fromEnv.paths['/v3/posts']);
    assert.equal(fromEnv.servers[0].url, 'https://api.example.com');
  });

  test('a bad settings file or model exits 1 with one message and nothing on stdout', async () => {
    const config = join(dir, 'bad-settings.json');
    writeFileSync(config, JSON.stringify({ apiPrefx: '/v2', pageMaxLimit: 0 }));
    const bad = await kiln(['openapi', '--model', BLOG_MODEL_PATH, '--config', config]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^kiln openapi: invalid configuration:\n {2}- config file: unknown setting "apiPrefx" \(known: /);
    assert.match(bad.stderr, /\n {2}- config file "pageMaxLimit": 0 is below the minimum 1\n/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);

    const model = join(dir, 'model.yaml');
    writeFileSync(model, 'resources:\n  posts: { fields: { title: { type: strng } } }\n');
    const broken = await kiln(['openapi', '--model', model]);
    assert.equal(broken.code, 1);
    assert.equal(broken.stdout, '');
    assert.match(broken.stderr, /^kiln openapi: .*model\.yaml: the model has 1 problem:\n {2}- resources\.posts\.fields\.title\.type: unknown type "strng"\n/);
  });

  test('writes the document the server serves: custom routes, auth routes and security schemes included', async () => {
    const { code, stdout, stderr } = await kiln(['openapi', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: join(dir, 'never-created') });
    assert.equal(code, 0, stderr);
    const written = JSON.parse(stdout);
    // No signing key was needed, and none was made: the embedded secret lives beside the embedded database.
    assert.equal(existsSync(join(dir, 'never-created')), false);
    const server = await startTestServer(await blogModelWithRules(), 'pglite', { apiPrefix: '/v1', publicUrl: '', rateLimit: DEFAULT_RATE_LIMIT });
    try {
      const served = await (await server.fetch('/openapi.json')).json();
      assert.deepEqual(written, served);
    } finally {
      await server.close();
    }
    for (const path of ['/v1/posts/{id}/publish', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/session', '/v1/auth/api-keys', '/.well-known/jwks.json']) {
      assert.ok(written.paths[path], path);
    }
    assert.deepEqual(Object.keys(written.components.securitySchemes).sort(), ['apiKeyAuth', 'bearerAuth', 'cookieAuth']);
    assert.deepEqual(written.paths['/v1/auth/login'].post.security, [{}]);
  });

  test('describes identity providers without their secrets, the public URL or any connection', async () => {
    let contacted = 0;
    const issuer = createServer((_req, res) => {
      contacted++;
      res.writeHead(500).end();
    });
    await new Promise<void>((done) => issuer.listen(0, '127.0.0.1', done));
    const issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    const model = join(dir, 'providers.yaml');
    writeFileSync(
      model,
      [
        'auth:',
        '  accounts: { resource: users }',
        `  oidc: { corp: { issuer: "${issuerUrl}", clientId: kiln } }`,
        `  bearer: [{ issuer: "${issuerUrl}", audience: https://api.example.com }]`,
        'resources:',
        '  users: { fields: { email: { type: string, format: email, unique: true } } }',
        '',
      ].join('\n'),
    );
    try {
      const { code, stdout, stderr } = await kiln(['openapi', '--model', model], {
        REDIS_URL: 'redis://127.0.0.1:9',
        KILN_DATA_DIR: join(dir, 'never-created'),
      });
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      const written = JSON.parse(stdout);
      assert.ok(written.paths['/v1/auth/oidc/corp'].get);
      assert.ok(written.paths['/v1/auth/oidc/corp/callback'].get);
      assert.equal(contacted, 0, 'the identity provider was contacted');
      assert.equal(existsSync(join(dir, 'never-created')), false);
    } finally {
      issuer.close();
    }
  });
});
