import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { spawnServe } from '../helpers/serve-process.js';
import { BACKENDS, createTestDatabase } from '../helpers/server.js';

/** Waits until `found` holds: the request line is written just after the response is sent. */
async function until(found: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !found(); i++) await new Promise((r) => setTimeout(r, 10));
}

for (const backend of BACKENDS) {
  describe(`KILN_LOG_FORMAT=pretty (${backend})`, () => {
    let text = '';
    let url: string;
    let close: () => Promise<void>;

    before(async () => {
      const settings = { ...resolveSettings({ KILN_LOG_FORMAT: 'pretty', KILN_LOG_SQL: '1' }), host: '127.0.0.1', port: 0 };
      const database = await createTestDatabase(backend, settings);
      settings.dbSchema = database.schema;
      const logStream = new Writable({
        write(chunk, _enc, done) {
          text += String(chunk);
          done();
        },
      });
      const kiln = await startKiln({ model: await blogModel(), settings, db: database.db, logStream });
      url = kiln.url;
      close = async () => {
        await kiln.close({ keepDatabase: true });
        await database.dispose();
      };
    });
    after(() => close());

    test('a request is one human line: time, level, method, path, status, duration, request id', async () => {
      const res = await fetch(`${url}/v1/posts?status=draft`, { headers: { 'x-request-id': 'req-pretty-1' } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const mine = () => text.split('\n').filter((line) => line.includes('req-pretty-1') && line.includes(' GET '));
      await until(() => mine().length > 0);
      assert.deepEqual(mine().length, 1, text);
      // No colour: the lines go to a stream of the application's own, not a terminal.
      assert.match(mine()[0] as string, /^\d{2}:\d{2}:\d{2} INFO {2}GET \/v1\/posts 200 \d+\.\d ms \(req-pretty-1\)$/);
      // KILN_LOG_SQL: each statement on a line of its own, before the request line.
      const sql = text.split('\n').filter((line) => line.includes('req-pretty-1') && line.includes(' SQL '));
      assert.ok(sql.length >= 1, text);
      assert.match(sql[0] as string, /^\d{2}:\d{2}:\d{2} INFO {2}SQL \d+\.\d ms SELECT .+ \(req-pretty-1\)$/);
      assert.doesNotMatch(text, /[{}]/, 'no JSON in the pretty output');
      assert.doesNotMatch(text, /status=draft/, 'the query string is not logged');
    });

    test('a client error shows its status in the line', async () => {
      const res = await fetch(`${url}/v1/posts/abc`, { headers: { 'x-request-id': 'req-pretty-2' } });
      assert.equal(res.status, 400);
      await res.arrayBuffer();
      const mine = () => text.split('\n').filter((line) => line.includes('req-pretty-2') && line.includes(' GET '));
      await until(() => mine().length > 0);
      assert.match(mine()[0] as string, /INFO {2}GET \/v1\/posts\/abc 400 \d+\.\d ms \(req-pretty-2\)$/);
    });
  });
}

describe('log format of kiln serve', () => {
  for (const [name, env, isPretty] of [
    ['JSON by default when stdout is not a terminal', {}, false],
    ['pretty with KILN_LOG_FORMAT=pretty, even when stdout is not a terminal', { KILN_LOG_FORMAT: 'pretty' }, true],
  ] as const) {
    test(name, async () => {
      const serve = await spawnServe(env);
      try {
        const res = await fetch(`${serve.url}/v1/posts`, { headers: { 'x-request-id': 'req-serve-1' } });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      } finally {
        serve.child.kill('SIGTERM');
      }
      assert.equal(await serve.exit, 0, serve.stderr());
      const line = serve
        .stdout()
        .split('\n')
        .find((l) => l.includes('req-serve-1'));
      assert.ok(line, serve.stdout());
      if (isPretty) {
        assert.match(line, /^\d{2}:\d{2}:\d{2} INFO {2}GET \/v1\/posts 200 \d+\.\d ms \(req-serve-1\)$/);
      } else {
        assert.deepEqual(
          { ...JSON.parse(line), time: 0, durationMs: 0, pid: 0, hostname: '' },
          {
            level: 30,
            time: 0,
            pid: 0,
            hostname: '',
            reqId: 'req-serve-1',
            method: 'GET',
            route: '/v1/posts',
            path: '/v1/posts',
            status: 200,
            durationMs: 0,
            msg: 'request',
          },
        );
      }
    });
  }
});
