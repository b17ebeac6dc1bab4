/**
 * Forgotten passwords, black-box over HTTP with a real SMTP server: POST /v1/auth/password/forgot
 * mails a link whose token sets a new password once, within 30 minutes, only while it is the latest;
 * the reset signs the account out everywhere and verifies its address. No answer says whether a
 * login is registered, every unusable token gets the same 400, and no token reaches a response or
 * the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.js';
import { AccessTokens } from '../../src/auth/jwt.js';
import { Passwords } from '../../src/auth/passwords.js';
import { resolveSettings } from '../../src/config/settings.js';
import type { Model } from '../../src/model/ir.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, TEST_JWT_SECRET, type TestResponse, type TestServer } from '../helpers/server.js';
import { type ReceivedMail, startTestSmtp, type TestSmtp, tokenIn } from '../helpers/smtp.js';

const CHEAP_HASHING = { passwordMemoryKib: 8192, passwordTimeCost: 1 };
const OLD_PASSWORD = 'the old password, long enough';
const NEW_PASSWORD = 'a brand new password 42';
const FORGOT_ANSWER = { data: { message: 'if an account has this login, a mail with a link to reset its password is on its way' } };
const TOKEN_INVALID = {
  type: 'https://kiln.dev/errors/KILN_AUTH_TOKEN_INVALID',
  title: 'Invalid or expired link',
  status: 400,
  code: 'KILN_AUTH_TOKEN_INVALID',
  detail: 'this token is unknown, already used or expired: ask for a new mail',
};

/** Asserts the exact problem body (the request id aside, which expectProblem checks against the header). */
async function expectExactProblem(res: TestResponse, expected: { status: number; code: string } & Record<string, unknown>): Promise<void> {
  const { instance: _instance, ...body } = await expectProblem(res as unknown as Response, expected.status, expected.code);
  assert.deepEqual(body, expected);
}

for (const backend of BACKENDS) {
  describe(`password reset (${backend})`, () => {
    let model: Model;
    let smtp: TestSmtp;
    let server: TestServer;
    let accounts: AccountStore;
    let passwords: Passwords;
    /** Every token mailed, to search responses and logs for. */
    const mailedTokens: string[] = [];

    const forgot = (login: string) => server.fetch('/v1/auth/password/forgot', { method: 'POST', json: { login } });
    const reset = (token: string, password: string) => server.fetch('/v1/auth/password/reset', { method: 'POST', json: { token, password } });
    const login = (email: string, password: string) => server.fetch('/v1/auth/login', { method: 'POST', json: { login: email, password } });

    /** Asks for a reset of `email` and returns the mail that arrives for it. */
    async function resetMailFor(email: string): Promise<ReceivedMail> {
      const before = smtp.messages.length;
      const res = await forgot(email);
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), FORGOT_ANSWER);
      const [mail] = (await smtp.waitFor(before + 1)).slice(before);
      assert.ok(mail);
      assert.deepEqual(mail.to, [email]);
      mailedTokens.push(tokenIn(mail));
      return mail;
    }

    async function withPassword(email: string, password = OLD_PASSWORD) {
      const account = await accounts.findByLogin(email);
      assert.ok(account, `${email} is seeded`);
      await accounts.setPasswordHash(account.id, await passwords.hash(password));
      await accounts.setVerified(account.id, false);
      await accounts.setDisabled(account.id, false);
      return account;
    }

    before(async () => {
      model = await blogModel();
      smtp = await startTestSmtp();
      // Limits high enough for the many requests of one account here; their own suite is below.
      const limits = { authRateLimitAccount: 100, authRateLimitIp: 1000 };
      server = await startTestServer(model, backend, { ...CHEAP_HASHING, ...limits, smtpUrl: smtp.url, mailFrom: 'Blog <blog@example.test>' }, BLOG_SEED_PATH);
      const config = model.auth?.accounts;
      const resource = config && model.resourcesByName.get(config.resource);
      assert.ok(config && resource);
      accounts = new AccountStore(server.db, resource, config);
      passwords = new Passwords(CHEAP_HASHING, config.password);
    });
    after(async () => {
      await server.close();
      await smtp.close();
    });

    test('the reset mail comes from KILN_MAIL_FROM and names the route to send its token to', async () => {
      await withPassword('ada@example.com');
      const mail = await resetMailFor('ada@example.com');
      assert.equal(mail.from, 'Blog <blog@example.test>');
      assert.match(mail.subject, /: reset your password$/);
      const token = tokenIn(mail);
      assert.match(mail.text, new RegExp(`POST http://localhost:\\d+/v1/auth/password/reset\\n\\{ "token": "${token}", "password": "<new password>" \\}`));
      assert.match(mail.text, /once, within 30 minutes/);
    });

    test('the token sets a new password once: the old password stops working, the account is verified, and the token is spent', async () => {
      const account = await withPassword('ada@example.com');
      const token = tokenIn(await resetMailFor('ada@example.com'));
      const res = await reset(token, NEW_PASSWORD);
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      assert.equal((await accounts.findById(account.id))?.verified, true, 'the mail reached its owner');
      assert.ok(await passwords.verify((await accounts.findById(account.id))?.passwordHash ?? null, NEW_PASSWORD));
      await expectExactProblem(await reset(token, 'yet another password 99'), TOKEN_INVALID);
      assert.ok(await passwords.verify((await accounts.findById(account.id))?.passwordHash ?? null, NEW_PASSWORD), 'a spent token changed nothing');
    });

    test('after a reset, the old password, the refresh tokens and the sessions begun before it no longer sign in', async () => {
      await withPassword('alan@example.com');
      const signedIn = await login('alan@example.com', OLD_PASSWORD);
      assert.equal(signedIn.status, 200, await signedIn.clone().text());
      const { refreshToken } = (await signedIn.json()).data;
      assert.equal(typeof refreshToken, 'string');
      const session = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'alan@example.com', password: OLD_PASSWORD } });
      assert.equal(session.status, 200, await session.clone().text());
      const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      assert.match(cookie, /kiln_session=./);
      assert.equal((await server.fetch('/v1/auth/session', { headers: { cookie } })).status, 200);

      assert.equal((await reset(tokenIn(await resetMailFor('alan@example.com')), NEW_PASSWORD)).status, 204);
      await expectProblem((await login('alan@example.com', OLD_PASSWORD)) as unknown as Response, 401, 'KILN_AUTH_INVALID_CREDENTIALS');
      const refreshed = await server.fetch('/v1/auth/refresh', { method: 'POST', json: { refreshToken } });
      await expectProblem(refreshed as unknown as Response, 401, 'KILN_AUTH_REFRESH_INVALID');
      await expectProblem((await server.fetch('/v1/auth/session', { headers: { cookie } })) as unknown as Response, 401, 'KILN_UNAUTHENTICATED');
      assert.equal((await login('alan@example.com', NEW_PASSWORD)).status, 200);
    });

    test('of two resets with one token at the same time, exactly one wins', async () => {
      const account = await withPassword('grace@example.com');
      const token = tokenIn(await resetMailFor('grace@example.com'));
      const answers = await Promise.all([reset(token, 'first new password 1'), reset(token, 'second new password 2')]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [204, 400]);
      const lost = answers.find((a) => a.status === 400);
      assert.ok(lost);
      await expectExactProblem(lost, TOKEN_INVALID);
      const hash = (await accounts.findById(account.id))?.passwordHash ?? null;
      const won = answers[0]?.status === 204 ? 'first new password 1' : 'second new password 2';
      assert.ok(await passwords.verify(hash, won), 'the password is the winner’s');
    });

    test('a token past its 30 minutes is refused like an unknown one', async () => {
      const account = await withPassword('grace@example.com');
      const token = tokenIn(await resetMailFor('grace@example.com'));
      await server.db.query(`UPDATE "kiln_auth_one_time_tokens" SET "expires_at" = now() - interval '1 second' WHERE "account_id" = $1`, [account.id]);
      await expectExactProblem(await reset(token, NEW_PASSWORD), TOKEN_INVALID);
      assert.ok(await passwords.verify((await accounts.findById(account.id))?.passwordHash ?? null, OLD_PASSWORD));
    });

    test('a new request makes the earlier link stop working', async () => {
      await withPassword('grace@example.com');
      const first = tokenIn(await resetMailFor('grace@example.com'));
      const second = tokenIn(await resetMailFor('grace@example.com'));
      assert.notEqual(first, second);
      await expectExactProblem(await reset(first, NEW_PASSWORD), TOKEN_INVALID);
      assert.equal((await reset(second, NEW_PASSWORD)).status, 204);
    });

    test('an unknown or made-up token is refused the same way', async () => {
      await expectExactProblem(await reset('no-such-token', NEW_PASSWORD), TOKEN_INVALID);
      await expectExactProblem(await reset('A'.repeat(43), NEW_PASSWORD), TOKEN_INVALID);
    });

    test('a password the policy refuses is a 400 naming /password, and leaves the token usable', async () => {
      await withPassword('ada@example.com');
      const token = tokenIn(await resetMailFor('ada@example.com'));
      const min = model.auth?.accounts?.password.minLength ?? 0;
      const res = await reset(token, 'short');
      const body = await expectProblem(res as unknown as Response, 400, 'KILN_VALIDATION_FAILED');
      assert.equal(body.errors?.length, 1);
      assert.equal(body.errors?.[0]?.path, '/password');
      assert.match(String(body.detail), new RegExp(`^/password: .*${min}`));
      const sameAsLogin = await expectProblem((await reset(token, 'ada@example.com')) as unknown as Response, 400, 'KILN_VALIDATION_FAILED');
      assert.equal(sameAsLogin.errors?.[0]?.path, '/password');
      assert.equal((await reset(token, NEW_PASSWORD)).status, 204, 'the refused passwords did not spend the token');
    });

    test('a malformed body is a 400 in the validation format', async () => {
      const missing = await expectProblem(
        (await server.fetch('/v1/auth/password/reset', { method: 'POST', json: { token: 'x' } })) as unknown as Response,
        400,
        'KILN_VALIDATION_FAILED',
      );
      assert.deepEqual(missing.errors, [{ path: '/password', code: 'required', message: '"password" is required' }]);
      const extra = await expectProblem(
        (await server.fetch('/v1/auth/password/reset', {
          method: 'POST',
          json: { token: 'x', password: NEW_PASSWORD, login: 'ada@example.com' },
        })) as unknown as Response,
        400,
        'KILN_VALIDATION_FAILED',
      );
      assert.deepEqual(extra.errors, [{ path: '/login', code: 'unknown', message: '"login" is not accepted here' }]);
      await expectExactProblem(await server.fetch('/v1/auth/password/reset', { method: 'POST' }), {
        type: 'https://kiln.dev/errors/KILN_BODY_MISSING',
        title: 'Request body is missing',
        status: 400,
        code: 'KILN_BODY_MISSING',
        detail: 'this request needs a JSON body',
      });
      const noLogin = await expectProblem(
        (await server.fetch('/v1/auth/password/forgot', { method: 'POST', json: {} })) as unknown as Response,
        400,
        'KILN_VALIDATION_FAILED',
      );
      assert.deepEqual(noLogin.errors, [{ path: '/login', code: 'required', message: '"login" is required' }]);
    });

    test('a verification token cannot reset a password', async () => {
      const account = await withPassword('alan@example.com');
      const before = smtp.messages.length;
      await server.db.query(`DELETE FROM "kiln_auth_one_time_tokens" WHERE "account_id" = $1`, [account.id]);
      const asked = await server.fetch('/v1/auth/verify/request', { method: 'POST', headers: { authorization: `Bearer ${await accessTokenFor(account.id)}` } });
      assert.equal(asked.status, 202);
      const [mail] = (await smtp.waitFor(before + 1)).slice(before);
      assert.ok(mail);
      mailedTokens.push(tokenIn(mail));
      await expectExactProblem(await reset(tokenIn(mail), NEW_PASSWORD), TOKEN_INVALID);
    });

    test('asking for an unknown or disabled login answers the same and sends nothing', async () => {
      const disabled = await withPassword('grace@example.com');
      await accounts.setDisabled(disabled.id, true);
      const before = smtp.messages.length;
      for (const unknown of ['nobody@example.com', 'grace@example.com']) {
        const res = await forgot(unknown);
        assert.equal(res.status, 202);
        assert.deepEqual(await res.json(), FORGOT_ANSWER);
      }
      // The mail to a known address, sent after the others, arrives alone: they sent nothing.
      await withPassword('alan@example.com');
      await resetMailFor('alan@example.com');
      assert.deepEqual(
        smtp.messages.slice(before).map((m) => m.to),
        [['alan@example.com']],
      );
    });

    test('the login is matched as stored: case and surrounding spaces do not matter', async () => {
      await withPassword('ada@example.com');
      const before = smtp.messages.length;
      assert.equal((await forgot('  Ada@Example.COM ')).status, 202);
      const [mail] = (await smtp.waitFor(before + 1)).slice(before);
      assert.deepEqual(mail?.to, ['ada@example.com']);
      if (mail) mailedTokens.push(tokenIn(mail));
    });

    test('no token appears in a response or in the log', () => {
      assert.ok(mailedTokens.length >= 9);
      const logText = JSON.stringify(server.logs);
      for (const token of mailedTokens) assert.ok(!logText.includes(token), 'a mailed token reached the log');
      assert.ok(server.logs.some((l) => l.msg === 'mail sent' && l.mail === 'reset'));
    });
  });
}

/** The limits are counted in memory, whatever the database: one backend is enough. */
describe('password reset rate limits', () => {
  let smtp: TestSmtp;
  let server: TestServer;

  before(async () => {
    smtp = await startTestSmtp();
    server = await startTestServer(
      await blogModel(),
      BACKENDS.includes('postgres') ? 'postgres' : 'pglite',
      { ...CHEAP_HASHING, smtpUrl: smtp.url, authRateLimitAccount: 2, authRateLimitIp: 4 },
      BLOG_SEED_PATH,
    );
  });
  after(async () => {
    await server.close();
    await smtp.close();
  });

  test('asking too often for one login, or from one address, is a 429 with Retry-After', async () => {
    const forgot = (login: string) => server.fetch('/v1/auth/password/forgot', { method: 'POST', json: { login } });
    assert.equal((await forgot('nobody@example.com')).status, 202);
    assert.equal((await forgot('NOBODY@example.com')).status, 202);
    const perLogin = await forgot('nobody@example.com');
    assert.match(perLogin.headers.get('retry-after') ?? '', /^\d+$/);
    const seconds = perLogin.headers.get('retry-after');
    await expectExactProblem(perLogin, {
      type: 'https://kiln.dev/errors/KILN_RATE_LIMITED',
      title: 'Too many requests',
      status: 429,
      code: 'KILN_RATE_LIMITED',
      detail: `too many attempts for this account; retry in ${seconds} seconds`,
    });
    assert.equal((await forgot('someone@example.com')).status, 202);
    const perAddress = await forgot('someone-else@example.com');
    await expectExactProblem(perAddress, {
      type: 'https://kiln.dev/errors/KILN_RATE_LIMITED',
      title: 'Too many requests',
      status: 429,
      code: 'KILN_RATE_LIMITED',
      detail: `too many attempts from this address; retry in ${perAddress.headers.get('retry-after')} seconds`,
    });
  });
});

/** A valid access token for an account, signed with the test servers' key (the login route is tested elsewhere). */
async function accessTokenFor(accountId: string): Promise<string> {
  const tokens = await AccessTokens.fromSettings({ ...resolveSettings({}), authJwtSecret: TEST_JWT_SECRET });
  return (await tokens.issue({ id: accountId, roles: [] })).accessToken;
}
