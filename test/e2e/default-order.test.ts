/**
 * A list without `sort` comes in creation order: by id for integer ids, by createdAt then id for uuid
 * ids (whose values are random, so ordering by them alone shuffled every list), and pages walk it
 * without skipping or repeating a record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const model = compileOrThrow('default-order', {
  resources: {
    notes: { id: 'uuid', fields: { title: { type: 'string', maxLength: 20 } } },
    plain: { id: 'uuid', timestamps: false, fields: { title: { type: 'string', maxLength: 20 } } },
  },
});

for (const backend of BACKENDS) {
  describe(`default order (${backend})`, () => {
    let server: TestServer;
    const titles = Array.from({ length: 12 }, (_, i) => `note ${String(i).padStart(2, '0')}`);

    before(async () => {
      server = await startTestServer(model, backend);
      // One by one, so each has its own creation time.
      for (const title of titles) {
        assert.equal((await server.fetch('/v1/notes', { method: 'POST', json: { title } })).status, 201);
        await new Promise((r) => setTimeout(r, 3));
      }
    });
    after(() => server.close());

    test('uuid records list in creation order, page after page', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const body: any = await (await server.fetch(`/v1/notes?limit=5${cursor ? `&cursor=${cursor}` : ''}`)).json();
        seen.push(...body.data.map((n: { title: string }) => n.title));
        cursor = body.page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, titles);
    });

    test('without timestamps the order is the id: stable from one request to the next', async () => {
      for (const title of ['a', 'b', 'c', 'd']) await server.fetch('/v1/plain', { method: 'POST', json: { title } });
      const first = (await (await server.fetch('/v1/plain')).json()).data.map((n: { id: string }) => n.id);
      assert.deepEqual(first, [...first].sort());
      assert.deepEqual(
        (await (await server.fetch('/v1/plain')).json()).data.map((n: { id: string }) => n.id),
        first,
      );
    });
  });
}
