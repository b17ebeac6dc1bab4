import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery, printSchema } from 'graphql';
import { commandUsage } from '../../src/cli/usage.js';
import { BLOG_MODEL_PATH, blogModelWithRules } from '../helpers/blog.js';
import { type CliProcessResult, runCliProcess } from '../helpers/cli-process.js';
import { BACKENDS, startTestServer } from '../helpers/server.js';

/** The real CLI in a child process (`graphql` writes the SDL straight to stdout), with no signing key: it needs none. */
const kiln = (args: string[], env: Record<string, string> = {}) => runCliProcess(args, { KILN_AUTH_JWT_SECRET: '', ...env });

/** Everything introspection can say, so a difference anywhere in the schema shows in the printed SDL. */
const INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
});

const dir = mkdtempSync(join(tmpdir(), 'kiln-graphql-'));

describe('kiln graphql', () => {
  let printed: CliProcessResult;
  before(async () => {
    printed = await kiln(['graphql', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: join(dir, 'never-created') });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints the SDL of the model on stdout, without a database or a signing key', () => {
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stderr, '');
    assert.match(printed.stdout, /^type Query \{\n|\ntype Query \{\n/);
    assert.equal(printed.stdout.endsWith('}\n'), true);
    assert.equal(existsSync(join(dir, 'never-created')), false);
  });

  for (const backend of BACKENDS) {
    test(`the SDL is the schema a running blog server describes by introspection (${backend})`, async () => {
      const server = await startTestServer(await blogModelWithRules(), backend);
      try {
        const res = await server.fetch('/graphql', { method: 'POST', json: { query: INTROSPECTION } });
        assert.equal(res.status, 200);
        const { data, errors } = (await res.json()) as { data: IntrospectionQuery; errors?: unknown };
        assert.equal(errors, undefined);
        assert.equal(printed.stdout, `${printSchema(buildClientSchema(data))}\n`);
      } finally {
        await server.close();
      }
    });
  }

  test('prints the SDL with GraphQL turned off too: the schema the model would serve', async () => {
    const off = await kiln(['graphql', '--model', BLOG_MODEL_PATH], { KILN_GRAPHQL: 'false' });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout, printed.stdout);
  });

  test('--config sets the page sizes written as argument defaults; the environment overrides the file', async () => {
    const config = join(dir, 'settings.json');
    writeFileSync(config, JSON.stringify({ pageDefaultLimit: 7 }));
    const fromFile = await kiln(['graphql', '--model', BLOG_MODEL_PATH, '--config', config]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /\n {2}posts\(\n(.*\n)*? {4}limit: Int = 7\n/);
    // One per resource's root list field; the nested lists keep the include limit.
    assert.equal(fromFile.stdout.match(/limit: Int = 7\n/g)?.length, 4);
    const fromEnv = await kiln(['graphql', '--model', BLOG_MODEL_PATH, '--config', config], { KILN_PAGE_DEFAULT_LIMIT: '9' });
    assert.match(fromEnv.stdout, /\n {2}posts\(\n(.*\n)*? {4}limit: Int = 9\n/);
  });

  test('a bad settings file or model exits 1 with one message and nothing on stdout', async () => {
    const config = join(dir, 'bad-settings.json');
    writeFileSync(config, JSON.stringify({ pageMaxLimit: 0 }));
    const bad = await kiln(['graphql', '--model', BLOG_MODEL_PATH, '--config', config]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, 'kiln graphql: invalid configuration:\n  - config file "pageMaxLimit": 0 is below the minimum 1\n');

    const model = join(dir, 'model.yaml');
    writeFileSync(model, 'resources:\n  posts: { fields: { title: { type: strng } } }\n');
    const broken = await kiln(['graphql', '--model', model]);
    assert.equal(broken.code, 1);
    assert.equal(broken.stdout, '');
    assert.match(broken.stderr, /^kiln graphql: .*model\.yaml: the model has 1 problem:\n {2}- resources\.posts\.fields\.title\.type: unknown type "strng"\n/);
    assert.doesNotMatch(broken.stderr, /\n\s+at /);
  });

  test('--help prints the options; a flag it does not take exits 2 naming it', async () => {
    const help = await kiln(['graphql', '--help']);
    assert.deepEqual(help, { code: 0, stdout: `${commandUsage('graphql')}\n`, stderr: '' });
    assert.match(commandUsage('graphql'), /^Usage: kiln graphql \[options\]\n\nPrint the GraphQL schema \(SDL\) of a model\.\n/);
    const seed = await kiln(['graphql', '--seed', 'x.json']);
    assert.deepEqual(seed, { code: 2, stdout: '', stderr: `kiln graphql: Unknown option '--seed'\n\n${commandUsage('graphql')}\n` });
  });
});
