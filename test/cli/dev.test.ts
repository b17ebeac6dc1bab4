import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { openDatabase } from '../../src/db/open.js';
import { compileOrThrow } from '../../src/model/load.js';
import { startKiln } from '../../src/start.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';
import { tempDir } from '../migrate/helpers.js';
import { killAll, latestApi, spawnDev } from './dev-process.js';

const notes = (fields: object) => JSON.stringify({ resources: { notes: { fields } } });
const json = { 'content-type': 'application/json' };

async function listNotes(api: string): Promise<unknown[]> {
  const res = await fetch(`${api}/notes?sort=id`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: unknown[] }).data;
}

function preflight(api: string, origin: string): Promise<Response> {
  return fetch(`${api}/notes`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
}

for (const backend of BACKENDS) {
  describe(`kiln dev as a process (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let env: Record<string, string>;
    before(async () => {
      db = await createTestDatabase(backend);
      tmp = tempDir();
      env = backend === 'postgres' ? { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: db.schema } : { DATABASE_URL: '', KILN_DATA_DIR: 'memory' };
    });
    after(async () => {
      killAll();
      await db.dispose();
      tmp.remove();
    });
    // Each test starts from an empty schema, even after one that failed half-way.
    afterEach(async () => {
      killAll();
      if (backend === 'postgres') await db.db.query('DROP TABLE IF EXISTS "notes", "kiln_migrations", "kiln_idempotency_keys"');
    });

    test('in a terminal it asks for a backfill value and for destructive steps, and a no keeps the old server', async () => {
      const project = join(tmp.dir, 'asks');
      mkdirSync(project);
      const model = join(project, 'model.json');
      writeFileSync(model, notes({ title: { type: 'text' } }));
      const dev = spawnDev(['--model', model], env, { terminal: true });
      try {
        await dev.waitFor('Watching');
        const first = latestApi(dev.output());
        const created = await fetch(`${first}/notes`, { method: 'POST', headers: json, body: '{"title":"Hello World"}' });
        assert.equal(created.status, 201);

        let mark = dev.output().length;
        writeFileSync(model, notes({ title: { type: 'text' }, slug: { type: 'text' } }));
        const valueQuestion = 'notes.slug is a new required field without a default: value for the existing rows of notes (SQL expression, empty to cancel): ';
        await dev.waitFor(valueQuestion, mark);
        dev.type('lower(title)\n');
        await dev.waitFor('model reloaded', mark);
        assert.match(
          dev.output().slice(mark),
          new RegExp(
            `^${valueQuestion.replace(/[().]/g, '\\$&')}lower\\(title\\)\\n` +
              'kiln dev: the model changed; wrote .*/migrations/\\d{14}_add-field-notes-slug/\\n {2}add field notes\\.slug \\(existing rows: lower\\(title\\)\\)\\n' +
              'kiln dev: applied \\d{14}_add-field-notes-slug\\n',
          ),
        );
        const second = latestApi(dev.output());
        assert.deepEqual(
          (await listNotes(second)).map((n: any) => [n.title, n.slug]),
          [['Hello World', 'hello world']],
        );

        mark = dev.output().length;
        writeFileSync(model, notes({ title: { type: 'text' } }));
        await dev.waitFor('[y/N] ', mark);
        assert.equal(
          dev.output().slice(mark),
          'The model change has destructive steps:\n  - drop field notes.slug: drops column notes.slug and its data\nWrite the migration with them? [y/N] ',
        );
        dev.type('n\n');
        await dev.waitFor('keeping the previous server running.\n', mark);
        assert.equal(
          dev.output().slice(mark),
          'The model change has destructive steps:\n  - drop field notes.slug: drops column notes.slug and its data\nWrite the migration with them? [y/N] n\n' +
            'kiln dev: the destructive steps were declined; nothing was written\nkeeping the previous server running.\n',
        );
        assert.equal(readdirSync(join(project, 'migrations')).length, 2);
        assert.deepEqual(
          (await listNotes(second)).map((n: any) => n.slug),
          ['hello world'],
          'the previous server still serves the previous model',
        );

        // Ctrl+C while a question waits for its answer still stops kiln dev cleanly (exit code 0 below).
        mark = dev.output().length;
        writeFileSync(model, notes({ title: { type: 'text' }, slug: { type: 'text' }, body: { type: 'text', nullable: true } }));
        await dev.waitFor('model reloaded', mark);
        mark = dev.output().length;
        writeFileSync(model, notes({ title: { type: 'text' }, body: { type: 'text', nullable: true } }));
        await dev.waitFor('[y/N] ', mark);
      } finally {
        assert.equal(await dev.stop(), 0, dev.output());
      }
    });

    test('without a terminal it names the flag a change needs, takes it on the next start, once; and allows local origins for CORS', async () => {
      const project = join(tmp.dir, 'flags');
      mkdirSync(project);
      const model = join(project, 'model.json');
      // The data outlives a restart, as it does with the default .kiln folder.
      const devEnv = backend === 'pglite' ? { ...env, KILN_DATA_DIR: join(project, 'data') } : env;
      writeFileSync(model, notes({ title: { type: 'text' } }));
      const first = spawnDev(['--model', model], devEnv, { terminal: false });
      let api: string;
      try {
        await first.waitFor('Watching');
        assert.match(first.output(), /\n {2}CORS {6}http:\/\/localhost:\*, http:\/\/127\.0\.0\.1:\* \(dev default; set KILN_CORS_ORIGINS to change\)\n/);
        api = latestApi(first.output());
        const allowed = await preflight(api, 'http://localhost:5173');
        assert.equal(allowed.status, 204);
        assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:5173');
        assert.equal((await preflight(api, 'http://127.0.0.1:8080')).headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
        assert.equal((await preflight(api, 'http://evil.example:5173')).headers.get('access-control-allow-origin'), null);
        assert.equal((await fetch(`${api}/notes`, { method: 'POST', headers: json, body: '{"title":"Hi There"}' })).status, 201);

        const mark = first.output().length;
        writeFileSync(model, notes({ title: { type: 'text' }, slug: { type: 'text' } }));
        await first.waitFor('keeping the previous server running.', mark);
        assert.equal(
          first.output().slice(mark),
          'kiln dev: the model change has destructive steps; nothing was written:\n' +
            '  - add field notes.slug: fails if notes has rows: notes.slug is NOT NULL without a default; give the field a default or pass --backfill notes.slug=<SQL expression>\n' +
            'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).\n' +
            'To make this change, stop kiln dev and start it again with the flag named above (kiln dev takes the flags of kiln migrate generate), or run it in a terminal, where it asks.\n' +
            'keeping the previous server running.\n',
        );
        assert.equal((await fetch(`${api}/notes`)).status, 200, 'the previous server still answers');
      } finally {
        assert.equal(await first.stop(), 0, first.output());
      }

      const second = spawnDev(['--model', model, '--backfill', 'notes.slug=lower(title)'], devEnv, { terminal: false });
      try {
        await second.waitFor('Watching');
        assert.match(second.output(), /^kiln dev: the model changed; wrote .*\n {2}add field notes\.slug \(existing rows: lower\(title\)\)\n/);
        assert.deepEqual(
          (await listNotes(latestApi(second.output()))).map((n: any) => n.slug),
          ['hi there'],
        );
        // The --backfill flag is spent: were it still there, this change would fail on it instead.
        const mark = second.output().length;
        writeFileSync(model, notes({ title: { type: 'text' } }));
        await second.waitFor('keeping the previous server running.', mark);
        assert.match(second.output().slice(mark), /^kiln dev: the model change has destructive steps; nothing was written:\n {2}- drop field notes\.slug: /);
      } finally {
        assert.equal(await second.stop(), 0, second.output());
      }
    });

    test('it reloads when a file the model imports changes, and a configured CORS list replaces the dev default', async () => {
      const project = join(tmp.dir, 'imports');
      mkdirSync(join(project, 'resources'), { recursive: true });
      writeFileSync(join(project, 'kiln.config.ts'), "import { notes } from './resources/notes';\nexport default { resources: { notes } };\n");
      const resource = (fields: string) => `import { text } from '../fields';\nexport const notes = { fields: { title: text, ${fields} } };\n`;
      writeFileSync(join(project, 'fields.ts'), "export const text = { type: 'text' } as const;\n");
      writeFileSync(join(project, 'resources', 'notes.ts'), resource(''));
      const dev = spawnDev(['--model', join(project, 'kiln.config.ts')], { ...env, KILN_CORS_ORIGINS: 'https://app.example' }, { terminal: false });
      try {
        await dev.waitFor('Watching');
        assert.match(
          dev.output(),
          /\n {2}CORS {6}https:\/\/app\.example\n {2}Access {4}OPEN: the model declares no access rules, [^\n]*\n {12}declare roles and rules [^\n]*\nPress Ctrl\+C to stop\.\nWatching .*kiln\.config\.ts and the 2 files it imports for changes\.\n/,
        );
        assert.equal((await preflight(latestApi(dev.output()), 'http://localhost:5173')).headers.get('access-control-allow-origin'), null);

        let mark = dev.output().length;
        writeFileSync(join(project, 'resources', 'notes.ts'), resource("pinned: { type: 'boolean', default: false },"));
        await dev.waitFor('model reloaded', mark);
        assert.match(dev.output().slice(mark), /\n {2}add field notes\.pinned\n/);
        assert.equal((await fetch(`${latestApi(dev.output())}/notes`, { method: 'POST', headers: json, body: '{"title":"a"}' })).status, 201);
        assert.deepEqual(
          (await listNotes(latestApi(dev.output()))).map((n: any) => [n.title, n.pinned]),
          [['a', false]],
        );

        // A second edit, of a file imported by the imported file: the reload reads it afresh again.
        mark = dev.output().length;
        writeFileSync(join(project, 'fields.ts'), "export const text = { type: 'text', nullable: true } as const;\n");
        await dev.waitFor('model reloaded', mark);
        assert.match(dev.output().slice(mark), /\n {2}alter field notes\.title: nullable\n/);
      } finally {
        assert.equal(await dev.stop(), 0, dev.output());
      }
    });
  });
}

describe('kiln serve keeps CORS closed by default', () => {
  test('a preflight from a local front-end gets no allow-origin header', async () => {
    const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'silent', dataDir: 'memory', databaseUrl: '' };
    const db = await openDatabase(settings);
    const model = compileOrThrow('test', { resources: { notes: { fields: { title: { type: 'text' } } } } });
    const kiln = await startKiln({ model, settings, db });
    try {
      const res = await preflight(`${kiln.url.replace('localhost', '127.0.0.1')}/v1`, 'http://localhost:5173');
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    } finally {
      await kiln.close();
    }
  });
});
