/**
 * Secrets never leave through the side doors: a full round of every credential flow (sign-up, login,
 * me, refresh and refresh reuse, password change, forgot and reset through a real SMTP server, the
 * session cookie with its CSRF token, API keys in both headers, refused credentials of every kind),
 * logged at debug level with every SQL statement and its values, then every log line, every response
 * header and every response body is searched for each password, token, cookie and key. A secret may
 * appear only in the one answer that hands it to its owner.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { REDACT_PATHS } from '../../src/http/observability.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { startTestSmtp, type TestSmtp, tokenIn } from '../helpers/smtp.js';

const FAST_HASHING = { passwordMemoryKib: 8192, passwordTimeCost: 1 };

/** A response as seen on the wire: status, every header, the body. */
interface Seen {
  readonly label: string;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** A secret, and the labels of the responses allowed to carry it (those that hand it out). */
interface Secret {
  readonly name: string;
  readonly value: string;
  readonly deliveredBy: readonly string[];
}

const secretText = (prefix: string) => `${prefix}-${randomBytes(12).toString('base64url')}`;

for (const backend of BACKENDS) {
  describe(`no secret in logs, headers or error bodies (${backend})`, () => {
    let server: TestServer;
    let smtp: TestSmtp;
    const seen: Seen[] = [];
    const secrets: Secret[] = [];
    const keep = (name: string, value: unknown, ...deliveredBy: string[]) => {
      assert.equal(typeof value, 'string', `${name} is a string`);
      secrets.push({ name, value: value as string, deliveredBy });
      return value as string;
    };
    /** Calls the API and records what came back. */
    const call = async (label: string, path: string, init: RequestInit & { json?: unknown } = {}, status?: number) => {
      const res = await server.fetch(path, init);
      const body = await res.text();
      seen.push({ label, status: res.status, headers: JSON.stringify([...res.headers]), body });
      if (status !== undefined) assert.equal(res.status, status, `${label}: ${body}`);
      return { res, json: body ? JSON.parse(body) : undefined };
    };

    before(async () => {
      smtp = await startTestSmtp();
      server = await startTestServer(await blogModel(), backend, { ...FAST_HASHING, logLevel: 'debug', logSql: 'values', smtpUrl: smtp.url });
      const email = `grace-${randomBytes(4).toString('hex')}@example.com`;
      const first = keep('first password', secretText('first'));
      const second = keep('changed password', secretText('second'));
      const third = keep('reset password', secretText('third'));

      await call('signup', '/v1/auth/signup', { method: 'POST', json: { email, password: first, name: 'Grace' } }, 202);
      await call('signup again (same email)', '/v1/auth/signup', { method: 'POST', json: { email, password: first, name: 'Grace' } }, 202);
      // Both sign-ups mail after they answer (the address to verify, then the notice that it already has an
      // account); they must be in before the reset mail is picked out by its position.
      await smtp.waitFor(2);
      await call('login, wrong password', '/v1/auth/login', { method: 'POST', json: { login: email, password: `${first}x` } }, 401);
      const login = await call('login', '/v1/auth/login', { method: 'POST', json: { login: email, password: first } }, 200);
      const access = keep('access token', login.json.data.accessToken, 'login');
      const refresh = keep('refresh token', login.json.data.refreshToken, 'login');
      const bearer = { authorization: `Bearer ${access}` };
      await call('me', '/v1/auth/me', { headers: bearer }, 200);
      await call('me, altered token', '/v1/auth/me', { headers: { authorization: `Bearer ${access.slice(0, -4)}AAAA` } }, 401);
      const refreshed = await call('refresh', '/v1/auth/refresh', { method: 'POST', json: { refreshToken: refresh } }, 200);
      keep('refreshed access token', refreshed.json.data.accessToken, 'refresh');
      const refreshedRefresh = keep('refreshed refresh token', refreshed.json.data.refreshToken, 'refresh');
      await call('refresh reuse', '/v1/auth/refresh', { method: 'POST', json: { refreshToken: refresh } }, 401);
      await call('refresh after reuse', '/v1/auth/refresh', { method: 'POST', json: { refreshToken: refreshedRefresh } }, 401);

      const again = await call('login again', '/v1/auth/login', { method: 'POST', json: { login: email, password: first } }, 200);
      const access2 = keep('second access token', again.json.data.accessToken, 'login again');
      keep('second refresh token', again.json.data.refreshToken, 'login again');
      const bearer2 = { authorization: `Bearer ${access2}` };
      await call('password change, wrong current', '/v1/auth/password', {
        method: 'POST',
        headers: bearer2,
        json: { currentPassword: third, newPassword: second },
      });
      const changed = await call(
        'password change',
        '/v1/auth/password',
        { method: 'POST', headers: bearer2, json: { currentPassword: first, newPassword: second } },
        200,
      );
      keep('access token after the change', changed.json.data.accessToken, 'password change');
      keep('refresh token after the change', changed.json.data.refreshToken, 'password change');

      const mailsBefore = smtp.messages.length;
      await call('forgot', '/v1/auth/password/forgot', { method: 'POST', json: { login: email } }, 202);
      const [mail] = (await smtp.waitFor(mailsBefore + 1)).slice(mailsBefore);
      const resetToken = keep('reset token', tokenIn(mail as never));
      await call('reset', '/v1/auth/password/reset', { method: 'POST', json: { token: resetToken, password: third } }, 204);
      await call('reset again (spent token)', '/v1/auth/password/reset', { method: 'POST', json: { token: resetToken, password: third } }, 400);

      const session = await call('session login', '/v1/auth/session', { method: 'POST', json: { login: email, password: third } }, 200);
      const setCookie = session.res.headers.get('set-cookie') ?? '';
      const cookieValue = keep('session cookie', /^[^=]+=([^;]+)/.exec(setCookie)?.[1], 'session login');
      // GET /auth/session hands the CSRF token out again, to a page that was reloaded.
      const csrf = keep('csrf token', session.json.data.csrfToken, 'session login', 'session read');
      const cookie = { cookie: `${setCookie.split('=')[0]}=${cookieValue}` };
      await call('session read', '/v1/auth/session', { headers: cookie }, 200);
      await call('cookie write without CSRF', '/v1/auth/logout/all', { method: 'POST', headers: cookie }, 403);
      await call('cookie write with a wrong CSRF', '/v1/auth/logout/all', { method: 'POST', headers: { ...cookie, 'x-csrf-token': `${csrf}x` } }, 403);

      const relogin = await call('login third', '/v1/auth/login', { method: 'POST', json: { login: email, password: third } }, 200);
      const access3 = keep('third access token', relogin.json.data.accessToken, 'login third');
      keep('third refresh token', relogin.json.data.refreshToken, 'login third');
      const created = await call(
        'api key create',
        '/v1/auth/api-keys',
        { method: 'POST', headers: { authorization: `Bearer ${access3}` }, json: { name: 'ci' } },
        201,
      );
      const apiKey = keep('api key', created.json.data.key, 'api key create');
      await call('api key in its header', '/v1/auth/me', { headers: { 'x-api-key': apiKey } }, 200);
      await call('api key as bearer', '/v1/auth/me', { headers: { authorization: `Bearer ${apiKey}` } }, 200);
      await call('api key altered', '/v1/auth/me', { headers: { 'x-api-key': `${apiKey.slice(0, -3)}abc` } }, 401);
      await call('session logout', '/v1/auth/session', { method: 'DELETE', headers: { ...cookie, 'x-csrf-token': csrf } }, 204);
      await call('ended session', '/v1/auth/session', { headers: cookie }, 401);
      // Let the request log lines of the last answers be written.
      await new Promise((done) => setTimeout(done, 50));
    });
    after(async () => {
      await server?.close();
      await smtp?.close();
    });

    test('every flow ran: the log holds a line per request and the SQL with its values', () => {
      assert.ok(seen.length >= 25);
      assert.ok(server.logs.filter((l) => l.msg === 'request').length >= seen.length);
      assert.ok(
        server.logs.some((l) => JSON.stringify(l).includes('kiln_auth_refresh_tokens')),
        'KILN_LOG_SQL=values logged the statements',
      );
    });

    test('no log line holds a secret', () => {
      const lines = server.logs.map((l) => JSON.stringify(l));
      for (const { name, value } of secrets) {
        // Known exception: the sessions table stores the CSRF token as it is (to compare it), so
        // KILN_LOG_SQL=values, which logs statement values by design, shows it. A CSRF token
        // authenticates nothing without the session cookie, whose id is stored hashed and never logged.
        const exempt = (line: string) => name === 'csrf token' && line.includes('"msg":"sql"') && line.includes('kiln_auth_sessions');
        const leaks = lines.filter((line) => line.includes(value) && !exempt(line));
        assert.deepEqual(leaks, [], `${name} is in the log`);
      }
    });

    test('no response but the one that hands it out carries a secret, in its headers or its body', () => {
      for (const { name, value, deliveredBy } of secrets) {
        const leaks = seen.filter((s) => !deliveredBy.includes(s.label) && (s.headers.includes(value) || s.body.includes(value)));
        assert.deepEqual(
          leaks.map((s) => `${s.label} (${s.status})`),
          [],
          `${name} leaked`,
        );
      }
    });

    test('error answers were problem+json, and none echoes what was sent', () => {
      const errors = seen.filter((s) => s.status >= 400);
      assert.ok(errors.length >= 8);
      for (const error of errors) assert.match(error.headers, /application\/problem\+json/, error.label);
    });
  });
}

describe('log redaction', () => {
  test('the redaction paths cover every header and body field that carries a credential', () => {
    for (const path of [
      'req.headers.authorization',
      'req.headers.cookie',
      'res.headers["set-cookie"]',
      'req.headers["x-api-key"]',
      'req.headers["x-csrf-token"]',
      '*.password',
      '*.newPassword',
      '*.currentPassword',
      '*.refreshToken',
      '*.accessToken',
      '*.token',
    ]) {
      assert.ok(REDACT_PATHS.includes(path), `${path} is redacted`);
    }
  });

  test('a line logged with those fields shows none of their values', async () => {
    const server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite', FAST_HASHING);
    try {
      const secret = secretText('logged');
      server.kiln.app.log.info(
        {
          req: { headers: { authorization: `Bearer ${secret}`, cookie: secret, 'x-api-key': secret, 'x-csrf-token': secret } },
          res: { headers: { 'set-cookie': secret } },
          body: { password: secret, newPassword: secret, currentPassword: secret, refreshToken: secret, accessToken: secret, token: secret },
        },
        'redaction probe',
      );
      const line = server.logs.find((l) => l.msg === 'redaction probe');
      assert.ok(line, 'the probe line was written');
      assert.doesNotMatch(JSON.stringify(line), new RegExp(secret));
    } finally {
      await server.close();
    }
  });
});
