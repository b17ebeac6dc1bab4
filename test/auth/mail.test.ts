/**
 * Where account mail goes, black-box over HTTP: with no SMTP server `kiln serve` turns the mail flows
 * off (their routes are not served, signup works without mail, a line at start says why), while
 * `kiln dev` prints the mail, link included, to its log; an SMTP server that cannot be reached never
 * fails the request that triggered a mail, and its failure is logged without the token; a login that
 * is not an email address turns the flows off too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEV_MAIL_HEADLINE } from '../../src/auth/mailer.js';
import { hashSecret } from '../../src/auth/secrets.js';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';
import { deadSmtpUrl } from '../helpers/smtp.js';

const CHEAP_HASHING = { passwordMemoryKib: 8192, passwordTimeCost: 1 };
const MAIL_ROUTES = ['/v1/auth/password/forgot', '/v1/auth/password/reset', '/v1/auth/verify/request', '/v1/auth/verify'];
const FORGOT_ANSWER = { data: { message: 'if an account has this login, a mail with a link to reset its password is on its way' } };

const forgot = (server: TestServer, login: string) => server.fetch('/v1/auth/password/forgot', { method: 'POST', json: { login } });

async function expectRouteNotFound(res: TestResponse, path: string): Promise<void> {
  const { instance: _instance, ...body } = await expectProblem(res as unknown as Response, 404, 'KILN_ROUTE_NOT_FOUND');
  assert.deepEqual(body, {
    type: 'https://kiln.dev/errors/KILN_ROUTE_NOT_FOUND',
    title: 'Route not found',
    status: 404,
    code: 'KILN_ROUTE_NOT_FOUND',
    detail: `no route for POST ${path}`,
  });
}

/** Waits until a log line satisfies `match`: mail is sent after the request that triggered it was answered. */
async function logLine(server: TestServer, match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = server.logs.find(match);
    if (line) return line;
    if (Date.now() > deadline) throw new Error('the expected log line did not come');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The strings of a text that are live one-time tokens of the database (a token is only stored as its hash). */
async function liveTokensIn(server: TestServer, text: string): Promise<string[]> {
  const rows = await server.db.query<{ token_hash: string }>(`SELECT "token_hash" FROM "kiln_auth_one_time_tokens"`);
  const hashes = new Set(rows.map((r) => r.token_hash));
  assert.ok(hashes.size > 0, 'tokens were issued');
  return [...new Set(text.match(/[A-Za-z0-9_-]{43}/g) ?? [])].filter((candidate) => hashes.has(hashSecret(candidate)));
}

for (const backend of BACKENDS) {
  describe(`mail flows without SMTP under kiln serve (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, { ...CHEAP_HASHING, smtpUrl: '' });
    });
    after(() => server.close());

    test('a line at start says the flows are off and why', () => {
      const line = server.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('password reset and email verification are off'));
      assert.equal(line?.msg, 'password reset and email verification are off: KILN_SMTP_URL is not set');
      assert.equal(line?.level, 40);
    });

    test('their routes are not served, nor in the OpenAPI document', async () => {
      for (const path of MAIL_ROUTES) await expectRouteNotFound(await server.fetch(path, { method: 'POST', json: { token: 'x' } }), path);
      const { paths } = await (await server.fetch('/openapi.json')).json();
      for (const path of MAIL_ROUTES) assert.equal(paths[path], undefined, path);
    });

    test('signup works without mail', async () => {
      const res = await server.fetch('/v1/auth/signup', {
        method: 'POST',
        json: { email: 'lin@example.com', password: 'a password long enough', name: 'Lin' },
      });
      assert.equal(res.status, 202);
      const login = await server.fetch('/v1/auth/login', { method: 'POST', json: { login: 'lin@example.com', password: 'a password long enough' } });
      assert.equal(login.status, 200);
    });
  });

  describe(`mail under kiln dev without SMTP (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, { ...CHEAP_HASHING, smtpUrl: '' }, BLOG_SEED_PATH, { dev: true });
    });
    after(() => server.close());

    test('the mail, link included, is printed to the log, and its token works', async () => {
      const res = await forgot(server, 'ada@example.com');
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), FORGOT_ANSWER);
      const line = await logLine(server, (l) => typeof l.msg === 'string' && l.msg.startsWith(DEV_MAIL_HEADLINE));
      assert.equal(line.level, 30);
      assert.deepEqual(line.mail, { from: 'Kiln <no-reply@localhost>', to: 'ada@example.com', subject: 'Blog API: reset your password' });
      const printed = String(line.msg);
      assert.ok(
        printed.startsWith(`${DEV_MAIL_HEADLINE}\nFrom: Kiln <no-reply@localhost>\nTo: ada@example.com\nSubject: Blog API: reset your password\n\n`),
        printed,
      );
      assert.match(printed, /POST http:\/\/localhost:\d+\/v1\/auth\/password\/reset\n/);
      const token = /"token": "([A-Za-z0-9_-]{43})"/.exec(printed)?.[1];
      assert.ok(token, printed);
      const reset = await server.fetch('/v1/auth/password/reset', { method: 'POST', json: { token, password: 'a new password for ada' } });
      assert.equal(reset.status, 204);
      const others = JSON.stringify(server.logs.filter((l) => l !== line));
      assert.ok(!others.includes(token), 'only the printed mail holds the token');
    });
  });

  describe(`mail with an SMTP server that cannot be reached (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, { ...CHEAP_HASHING, smtpUrl: await deadSmtpUrl() }, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('the request is answered as usual, and the failure is logged without the token', async () => {
      const res = await forgot(server, 'ada@example.com');
      assert.equal(res.status, 202);
      const responseText = JSON.stringify(await res.json());
      assert.equal(responseText, JSON.stringify(FORGOT_ANSWER));
      const signup = await server.fetch('/v1/auth/signup', {
        method: 'POST',
        json: { email: 'lin@example.com', password: 'a password long enough', name: 'Lin' },
      });
      assert.equal(signup.status, 202);
      const failures = [
        await logLine(server, (l) => l.msg === 'could not send mail' && l.mail === 'reset'),
        await logLine(server, (l) => l.msg === 'could not send mail' && l.mail === 'verify'),
      ];
      for (const failure of failures) {
        assert.equal(failure.level, 50);
        assert.match(String((failure.err as { message: string }).message), /ECONNREFUSED/);
      }
      assert.deepEqual(await liveTokensIn(server, JSON.stringify(server.logs) + responseText), [], 'no issued token in the log or the response');
    });
  });
}

/** Decided at start from the model alone, whatever the database: one backend is enough. */
describe('mail flows of accounts whose login is not an email address', () => {
  let model: Model;
  let server: TestServer;

  before(async () => {
    model = compileOrThrow('accounts by handle', {
      auth: { accounts: { resource: 'members', login: 'handle' } },
      resources: { members: { fields: { handle: { type: 'string', minLength: 1, maxLength: 40, unique: true } } } },
    });
    server = await startTestServer(model, BACKENDS.includes('postgres') ? 'postgres' : 'pglite', { ...CHEAP_HASHING, smtpUrl: await deadSmtpUrl() });
  });
  after(() => server.close());

  test('are off, with the reason at start, and their routes are not served', async () => {
    assert.ok(server.logs.some((l) => l.msg === 'password reset and email verification are off: the login field members.handle is not an email address'));
    for (const path of MAIL_ROUTES) await expectRouteNotFound(await server.fetch(path, { method: 'POST', json: { token: 'x' } }), path);
  });
});
