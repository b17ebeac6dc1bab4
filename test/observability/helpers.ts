import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ERRORS } from '../../src/core/errors.js';

/** Asserts the exact problem+json body of a response: status, code, title, detail, and the request id as `instance`. */
export async function expectExactProblem(res: Response, status: number, code: keyof typeof ERRORS, detail: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const { instance, ...body } = JSON.parse(text);
  assert.equal(instance, res.headers.get('x-request-id'));
  assert.deepEqual(body, { type: `https://kiln.dev/errors/${code}`, title: ERRORS[code].title, status, detail, code });
}

/**
 * The value of one sample of a scrape: `name` with exactly `labels` (in any order), or undefined when
 * the scrape has no such sample.
 */
export function sample(scrape: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');
  for (const line of scrape.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (given === wanted) return Number(match[3]);
  }
  return undefined;
}

/**
 * Sends a GET on a connection of its own, written to the socket before this returns (a connected
 * socket with nothing queued writes at once): the bytes wait in the kernel even if this thread then
 * blocks its event loop. The promise resolves with the response once the server answers and closes.
 */
export async function sendRawGet(url: string, path: string): Promise<Promise<Response>> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<Response>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('end', () => resolve(parseResponse(Buffer.concat(chunks).toString('utf8'))));
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
  return closed;
}

/** A whole HTTP/1.1 response with a Content-Length, as a fetch Response. */
function parseResponse(raw: string): Response {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = raw.slice(0, split).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers = new Headers(headerLines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
  return new Response(raw.slice(split + 4), { status, headers });
}

/** Blocks this thread's event loop for `ms` milliseconds. */
export function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy: no timer, no I/O callback runs meanwhile.
  }
}

/** Retries `check` every 20 ms until it resolves true, for at most `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
