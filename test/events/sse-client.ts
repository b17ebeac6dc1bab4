/**
 * A Server-Sent Events client for the tests, on fetch's streaming body: `open` resolves once the
 * server said the subscription is live (its first comment), `next` waits for the next event.
 */
import assert from 'node:assert/strict';

export interface ServerEvent {
  readonly event: string;
  readonly id: string;
  readonly data: any;
}

export class SseClient {
  readonly response: Response;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #decoder = new TextDecoder();
  readonly #abort: AbortController;
  #buffer = '';
  /** Comment lines seen so far (`subscribed`, `heartbeat`). */
  readonly comments: string[] = [];

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
  }

  /** Opens the stream and waits for the server's `: subscribed`; a refused request is answered as is, not read. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const client = new SseClient(response, abort);
    if (response.status !== 200) return client;
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const first = await client.#block();
    assert.deepEqual(first, [': subscribed']);
    return client;
  }

  /** The next event; undefined when the server ended the stream. */
  async next(): Promise<ServerEvent | undefined> {
    for (;;) {
      const block = await this.#block();
      if (!block) return undefined;
      const fields = new Map<string, string>();
      for (const line of block) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
      }
      if (fields.size === 0) continue;
      return { event: fields.get('event') ?? 'message', id: fields.get('id') ?? '', data: JSON.parse(fields.get('data') ?? 'null') };
    }
  }

  async close(): Promise<void> {
    await this.#reader?.cancel();
    this.#abort.abort();
  }

  /** The lines of the next block (up to a blank line); undefined at the end of the stream. */
  async #block(): Promise<string[] | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return block.split('\n');
      }
      // Taken on first read: a refused request's body stays readable as a problem.
      this.#reader ??= (this.response.body as ReadableStream<Uint8Array>).getReader();
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }
}
