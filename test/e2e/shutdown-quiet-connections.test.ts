/**
 * Graceful shutdown does not wait for connections that carry no request: one opened and never used
 * (a client's spare connection, a scanner, a slowloris) used to hold close() until the request
 * timeout, past KILN_SHUTDOWN_TIMEOUT_MS. A request in flight is still answered.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer } from '../helpers/server.js';

async function openSocket(url: string): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

for (const backend of BACKENDS) {
  describe(`close() and connections without a request (${backend})`, () => {
    test('a connection that never sent a byte, and one that sent half a request line, are closed; close() does not wait for them', async () => {
      // A request timeout far longer than the test: only closing them can end close() in time.
      const server = await startTestServer(await blogModel(), backend, { requestTimeoutMs: 600_000 });
      const silent = await openSocket(server.url);
      const partial = await openSocket(server.url);
      partial.write('GET /v1/po');
      const ended = Promise.all([once(silent, 'close'), once(partial, 'close')]);
      const closing = server.close();
      const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((done) => setTimeout(() => done('still waiting'), 10_000))]);
      assert.equal(outcome, 'closed');
      await ended;
    });

    test('a request in flight on another connection is still answered', async () => {
      const server = await startTestServer(await blogModel(), backend, { requestTimeoutMs: 600_000 });
      const silent = await openSocket(server.url);
      const slow = await openSocket(server.url);
      // The body comes after close() began: the request is in flight all along.
      slow.write('POST /v1/tags HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n');
      let answer = '';
      slow.on('data', (chunk) => {
        answer += chunk;
      });
      await new Promise((done) => setTimeout(done, 100));
      const closing = server.kiln.close({ keepDatabase: true, drainMs: 0 });
      const answered = once(slow, 'close');
      slow.write('{"name":"late"}\n');
      await closing;
      await answered;
      await server.close().catch(() => {});
      assert.match(answer, /^HTTP\/1\.1 201 /);
      assert.ok(silent.destroyed || (await once(silent, 'close')));
    });
  });
}
