import assert from 'node:assert/strict';

/**
 * Asserts a response is RFC 9457 problem+json with the given status and code, and returns the body
 * for further assertions. Also checks no internals leaked into it.
 */
export async function expectProblem(
  res: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown> & { errors?: { path: string; code: string; message: string }[] }> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = JSON.parse(text);
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.type, `https://kiln.dev/errors/${code}`);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.equal(body.instance, res.headers.get('x-request-id'));
  assert.doesNotMatch(text, /at \w+ \(|node_modules|SELECT |INSERT |syntax error|relation "/, 'problem body leaks internals');
  return body;
}
