/**
 * Change events of the rows a deletion changes through foreign keys: PostgreSQL's ON DELETE CASCADE
 * removes them and ON DELETE SET NULL updates them, and subscribers of those resources hear of it as
 * of any other write: deleted (checked against the row as it was) and updated. Cascades are followed
 * through several resources and through a resource that references itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { type ServerEvent, SseClient } from './sse-client.js';

/** Authors own threads; a thread's notes cascade with it, and notes answer notes (cascading too); a pin points at a note, or at nothing once it is gone. */
const model = () =>
  compileOrThrow('cascade-events', {
    resources: {
      authors: { fields: { name: { type: 'string', maxLength: 50 } } },
      threads: {
        fields: {
          title: { type: 'string', maxLength: 50 },
          author: { type: 'belongsTo', target: 'authors', onDelete: 'cascade' },
        },
      },
      notes: {
        fields: {
          text: { type: 'string', maxLength: 50 },
          thread: { type: 'belongsTo', target: 'threads', nullable: true, onDelete: 'cascade' },
          answers: { type: 'belongsTo', target: 'notes', nullable: true, onDelete: 'cascade' },
        },
      },
      pins: {
        fields: {
          label: { type: 'string', maxLength: 50 },
          note: { type: 'belongsTo', target: 'notes', nullable: true, onDelete: 'setNull' },
        },
      },
    },
  });

for (const backend of BACKENDS) {
  describe(`events of rows changed by ON DELETE actions (${backend})`, () => {
    let server: TestServer;
    const create = async (resource: string, json: unknown): Promise<{ id: string | number }> => {
      const res = await server.fetch(`/v1/${resource}`, { method: 'POST', json });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()).data;
    };
    const open = (resource: string, query = '') => SseClient.open(`${server.api}/${resource}/events${query}`);
    /** The next `count` events of a stream, in the order they came. */
    const take = async (stream: SseClient, count: number): Promise<ServerEvent[]> => {
      const events: ServerEvent[] = [];
      for (let i = 0; i < count; i++) events.push((await stream.next()) as ServerEvent);
      return events;
    };
    const summary = (events: ServerEvent[]) => events.map((e) => `${e.event} ${e.id}`).sort();

    before(async () => {
      server = await startTestServer(model(), backend);
    });
    after(() => server.close());

    test('deleting an author announces its threads, their notes, the answers to those, and the pins set to null', async () => {
      const ada = await create('authors', { name: 'Ada' });
      const bob = await create('authors', { name: 'Bob' });
      const thread = await create('threads', { title: 'Engines', authorId: ada.id });
      const other = await create('threads', { title: 'Looms', authorId: bob.id });
      const first = await create('notes', { text: 'first', threadId: thread.id });
      // An answer outside any thread: it goes only because the note it answers goes.
      const answer = await create('notes', { text: 'answer', answersId: first.id });
      const kept = await create('notes', { text: 'kept', threadId: other.id });
      const pin = await create('pins', { label: 'pinned', noteId: answer.id });
      await create('pins', { label: 'elsewhere', noteId: kept.id });

      // A resource that references itself is served like any other, with the include written by its serializer.
      const included = await (await server.fetch(`/v1/notes/${answer.id}?include=answers`)).json();
      const { id, text, threadId, answersId } = included.data.answers;
      assert.deepEqual({ id, text, threadId, answersId }, { id: first.id, text: 'first', threadId: thread.id, answersId: null });

      const threads = await open('threads');
      const notes = await open('notes');
      const pins = await open('pins');
      const res = await server.fetch(`/v1/authors/${ada.id}`, { method: 'DELETE' });
      assert.equal(res.status, 204);

      assert.deepEqual(summary(await take(threads, 1)), [`deleted ${thread.id}`]);
      const noteEvents = await take(notes, 2);
      assert.deepEqual(summary(noteEvents), [`deleted ${first.id}`, `deleted ${answer.id}`].sort());
      assert.deepEqual(
        noteEvents.find((e) => e.id === String(answer.id))?.data,
        { data: { id: answer.id } },
        'a deletion names the record, as for a DELETE of its own',
      );
      const pinEvents = await take(pins, 1);
      assert.deepEqual(summary(pinEvents), [`updated ${pin.id}`]);
      assert.equal(pinEvents[0]?.data.data.noteId, null, 'the update carries the record as it is now');

      // Nothing else was announced: the next write is the next event of each stream.
      const later = await create('notes', { text: 'later', threadId: other.id });
      assert.deepEqual(summary(await take(notes, 1)), [`created ${later.id}`]);
      const laterPin = await create('pins', { label: 'later' });
      assert.deepEqual(summary(await take(pins, 1)), [`created ${laterPin.id}`]);
      const laterThread = await create('threads', { title: 'Later', authorId: bob.id });
      assert.deepEqual(summary(await take(threads, 1)), [`created ${laterThread.id}`]);
      await Promise.all([threads.close(), notes.close(), pins.close()]);
    });

    test("a subscriber's filters apply to the row as it was: only cascaded notes whose text matches", async () => {
      const ada = await create('authors', { name: 'Ada' });
      const thread = await create('threads', { title: 'Filters', authorId: ada.id });
      const match = await create('notes', { text: 'match me', threadId: thread.id });
      await create('notes', { text: 'other', threadId: thread.id });
      const notes = await open('notes', '?text[startsWith]=match');
      assert.equal((await server.fetch(`/v1/threads/${thread.id}`, { method: 'DELETE' })).status, 204);
      const probe = await create('notes', { text: 'match the probe' });
      assert.deepEqual(summary(await take(notes, 2)), [`deleted ${match.id}`, `created ${probe.id}`].sort());
      await notes.close();
    });

    test('a deletion that cascades to nothing announces only itself', async () => {
      const ada = await create('authors', { name: 'Alone' });
      const authors = await open('authors');
      const threads = await open('threads');
      assert.equal((await server.fetch(`/v1/authors/${ada.id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(summary(await take(authors, 1)), [`deleted ${ada.id}`]);
      const probe = await create('threads', { title: 'Probe', authorId: (await create('authors', { name: 'P' })).id });
      assert.deepEqual(summary(await take(threads, 1)), [`created ${probe.id}`]);
      await Promise.all([authors.close(), threads.close()]);
    });
  });
}
