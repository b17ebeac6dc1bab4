/**
 * The subscriptions of one process: an event reaches only its resource's listeners, after the
 * publishing call returned; the number held is bounded; a failing listener does not stop the others.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KilnError } from '../../src/core/errors.js';
import type { ChangeEvent } from '../../src/events/bus.js';
import { MemoryBus } from '../../src/events/memory-bus.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const event = (resource: string, id: number): ChangeEvent => ({ resource, type: 'created', id });

describe('the memory bus', () => {
  test('delivers to the listeners of the event’s resource only, after publish returned, past a listener that throws', async () => {
    const errors: unknown[] = [];
    const bus = new MemoryBus({ ...silent, error: (object: object) => errors.push(object) });
    const posts: ChangeEvent[] = [];
    const tags: ChangeEvent[] = [];
    bus.subscribe('posts', () => {
      throw new Error('listener bug');
    });
    bus.subscribe('posts', (e) => posts.push(e));
    const stopTags = bus.subscribe('tags', (e) => tags.push(e));
    bus.publish(event('posts', 1));
    assert.deepEqual(posts, [], 'delivered on a later turn, not inside publish');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(posts, [event('posts', 1)]);
    assert.deepEqual(tags, []);
    assert.equal(errors.length, 1);
    stopTags();
    stopTags();
    assert.equal(bus.size, 2, 'stopping twice removes one subscription');
  });

  test('refuses subscriptions past its maximum with KILN_SUBSCRIPTION_LIMIT, and takes them again once some stop', () => {
    const bus = new MemoryBus(silent, 2);
    const stop = bus.subscribe('posts', () => {});
    bus.subscribe('tags', () => {});
    assert.throws(
      () => bus.subscribe('posts', () => {}),
      (error: unknown) =>
        error instanceof KilnError &&
        error.code === 'KILN_SUBSCRIPTION_LIMIT' &&
        error.status === 429 &&
        error.detail === 'this instance already holds 2 subscriptions; retry later or connect to another instance',
    );
    stop();
    assert.doesNotThrow(() => bus.subscribe('posts', () => {}));
  });
});
