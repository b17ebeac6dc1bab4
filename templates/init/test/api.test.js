// `npm test`: serves this project's API on a fresh in-memory database, with the migrations in
// migrations/ applied, and makes real HTTP requests. It fails when the model changed without a
// migration ("run kiln migrate generate"), when a migration does not apply, or when the API breaks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel, resolveSettings, startKiln } from 'kilnjs';

const project = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));
let kiln;
let api;

before(async () => {
  const model = await loadModel(project('kiln.config.ts'));
  const settings = resolveSettings({ ...process.env, DATABASE_URL: '', KILN_DATA_DIR: 'memory', HOST: '127.0.0.1', PORT: '0', KILN_LOG_LEVEL: 'warn' });
  kiln = await startKiln({ model, settings, schema: { mode: 'migrations', dir: project('migrations'), apply: true } });
  api = `${kiln.url}${settings.apiPrefix}`;
});

after(() => kiln?.close());

async function send(method, path, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

test('a project and its task are created, then listed together', async () => {
  const project = await send('POST', '/projects', { name: 'Launch' });
  assert.equal(project.status, 201);
  const task = await send('POST', '/tasks', { title: 'Write the README', projectId: project.body.data.id });
  assert.equal(task.status, 201);
  assert.equal(task.body.data.done, false);

  const list = await send('GET', '/projects?include=tasks');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.data.map((p) => [p.name, p.tasks.map((t) => t.title)]),
    [['Launch', ['Write the README']]],
  );
});

test('a task without a title is refused with 400 and the reason', async () => {
  const res = await send('POST', '/tasks', { title: '' });
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'KILN_VALIDATION_FAILED');
});
