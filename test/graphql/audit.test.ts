/**
 * /graphql against graphql-http's own conformance audit of the GraphQL over HTTP specification
 * (`serverAudits`), run over a real socket against the blog: one test per audit, every MUST, SHOULD
 * and MAY of it passing. Then the answers Kiln's shared request handling gives before GraphQL runs
 * (body parser, media types, credentials), which the audit accepts but does not pin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serverAudits } from 'graphql-http';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** The problem body of a refusal, less its request id (`instance`), which is checked against X-Request-Id. */
async function problemOf(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json; charset=utf-8$/);
  const { instance, ...body } = (await res.json()) as Record<string, unknown>;
  assert.equal(instance, res.headers.get('x-request-id'));
  return body;
}

const problem = (code: string, status: number, title: string, detail: string) => ({ type: `https://kiln.dev/errors/${code}`, title, status, detail, code });

for (const backend of BACKENDS) {
  describe(`/graphql on the blog (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend);
    });
    after(async () => {
      await server?.close();
    });

    describe('passes the GraphQL over HTTP audit', () => {
      // The audits are listed before the server starts: each asks for the URL when it runs.
      for (const audit of serverAudits({ url: () => `${server.url}/graphql` })) {
        test(`${audit.id}: ${audit.name}`, async () => {
          const result = await audit.fn();
          assert.equal(result.status, 'ok', result.status === 'ok' ? '' : `${result.reason}\n${JSON.stringify(result.response ?? null)}`);
        });
      }
    });

    describe('refusals before GraphQL runs', () => {
      test('a mutation over GET is 405, Allow: POST, with the GraphQL error as JSON', async () => {
        const query = encodeURIComponent('mutation { deletePost(id: 1) }');
        const res = await server.fetch(`/graphql?query=${query}`);
        assert.equal(res.status, 405);
        assert.equal(res.headers.get('allow'), 'POST');
        assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.deepEqual(await res.json(), { errors: [{ message: 'Cannot perform mutations over GET' }] });
      });

      test('a body that is not JSON is 415 KILN_UNSUPPORTED_MEDIA_TYPE, application/graphql included', async () => {
        for (const type of ['text/plain', 'application/graphql']) {
          const res = await server.fetch('/graphql', { method: 'POST', headers: { 'content-type': type }, body: '{ __typename }' });
          assert.equal(res.status, 415, type);
          assert.deepEqual(
            await problemOf(res),
            problem('KILN_UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported media type', 'send the body as application/json'),
            type,
          );
        }
      });

      test('malformed JSON is 400 KILN_BODY_MALFORMED, saying where', async () => {
        const res = await server.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{ "query": ' });
        assert.equal(res.status, 400);
        assert.deepEqual(
          await problemOf(res),
          problem('KILN_BODY_MALFORMED', 400, 'Malformed request body', "the body is not valid JSON: Object value expected after ':' at line 1, column 12"),
        );
      });

      test('an access token that cannot be verified is 401 KILN_UNAUTHENTICATED with the Bearer challenge, as on REST', async () => {
        const res = await server.fetch('/graphql', {
          method: 'POST',
          headers: { authorization: 'Bearer not-a-token' },
          json: { query: '{ __typename }' },
        });
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
        assert.deepEqual(
          await problemOf(res),
          problem('KILN_UNAUTHENTICATED', 401, 'Authentication required', 'the access token is invalid or expired; refresh it or sign in again'),
        );
      });

      test('PUT is 405 KILN_METHOD_NOT_ALLOWED, Allow naming GET and POST', async () => {
        const res = await server.fetch('/graphql', { method: 'PUT', json: { query: '{ __typename }' } });
        assert.equal(res.status, 405);
        assert.equal(res.headers.get('allow'), 'GET, HEAD, POST');
        assert.deepEqual(await problemOf(res), problem('KILN_METHOD_NOT_ALLOWED', 405, 'Method not allowed', 'PUT is not allowed on /graphql'));
      });
    });
  });
}
