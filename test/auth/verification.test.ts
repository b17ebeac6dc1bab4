/**
 * Email verification, black-box over HTTP with a real SMTP server: signup mails a link whose token
 * verifies the address once, within 24 hours; a signed-in account may ask for a new link (which makes
 * the earlier one stop working); a signup with a registered address mails its owner instead, with no
 * token. Links point at KILN_AUTH_LINK_BASE when it is set. No token reaches a response or the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.js';
import type { Model } from '../../src/model/ir.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';
import { type ReceivedMail, startTestSmtp, type TestSmtp, tokenIn } from '../helpers/smtp.js';

const CHEAP_HASHING = { passwordMemoryKib: 8192, passwordTimeCost: 1 };
const PASSWORD = 'a password long enough 7';
const LINK_BASE = 'https://app.example.test/confirm';
const REQUEST_ANSWER = { data: { message: 'if this address is not verified yet, a mail with a link to verify it is on its way' } };
const TOKEN_INVALID = {
  type: 'https://kiln.dev/errors/KILN_AUTH_TOKEN_INVALID',
  title: 'Invalid or expired link',
  status: 400,
  code: 'KILN_AUTH_TOKEN_INVALID',
  detail: 'this token is unknown, already used or expired: ask for a new mail',
};

/** A machine caller whose id happens to look like an account's: it must not pass for that account. */
const serviceCaller: Authenticator = ({ headers }) => (headers['x-test-service'] === '1' ? { kind: 'service', id: '1', roles: ['authenticated'] } : undefined);

async function expectExactProblem(res: TestResponse, expected: { status: number; code: string } & Record<string, unknown>): Promise<void> {
  const { instance: _instance, ...body } = await expectProblem(res as unknown as Response, expected.status, expected.code);
  assert.deepEqual(body, expected);
}

for (const backend of BACKENDS) {
  describe(`email verification (${backend})`, () => {
    let model: Model;
    let smtp: TestSmtp;
    let server: TestServer;
    let accounts: AccountStore;
    const mailedTokens: string[] = [];

    const verify = (token: string) => server.fetch('/v1/auth/verify', { method: 'POST', json: { token } });
    const requestMail = (accessToken?: string) =>
      server.fetch('/v1/auth/verify/request', { method: 'POST', headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {} });

    /** The next mail, once it arrived; its token (if any) is remembered for the log check. */
    async function nextMail(send: () => Promise<TestResponse>, status: number): Promise<ReceivedMail> {
      const before = smtp.messages.length;
      const res = await send();
      assert.equal(res.status, status, await res.clone().text());
      const [mail] = (await smtp.waitFor(before + 1)).slice(before);
      assert.ok(mail);
      if (/token=/.test(mail.text)) mailedTokens.push(tokenIn(mail));
      return mail;
    }

    const signup = (email: string) => server.fetch('/v1/auth/signup', { method: 'POST', json: { email, password: PASSWORD, name: 'Someone' } });

    async function signIn(email: string): Promise<string> {
      const res = await server.fetch('/v1/auth/login', { method: 'POST', json: { login: email, password: PASSWORD } });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()).data.accessToken;
    }

    const isVerified = async (email: string) => (await accounts.findByLogin(email))?.verified;

    before(async () => {
      model = await blogModel();
      smtp = await startTestSmtp();
      // A low limit per account, so the test of it is short; the other tests stay under it.
      server = await startTestServer(
        model,
        backend,
        {
          ...CHEAP_HASHING,
          smtpUrl: smtp.url,
          authLinkBase: LINK_BASE,
          authRateLimitAccount: 3,
          authRateLimitIp: 1000,
        },
        undefined,
        { authenticators: [serviceCaller] },
      );
      const config = model.auth?.accounts;
      const resource = config && model.resourcesByName.get(config.resource);
      assert.ok(config && resource);
      accounts = new AccountStore(server.db, resource, config);
    });
    after(async () => {
      await server.close();
      await smtp.close();
    });

    test('signup mails a link to KILN_AUTH_LINK_BASE whose token verifies the address once', async () => {
      const mail = await nextMail(() => signup('lin@example.com'), 202);
      assert.deepEqual(mail.to, ['lin@example.com']);
      assert.match(mail.subject, /: confirm your email address$/);
      const token = tokenIn(mail);
      assert.ok(mail.text.includes(`${LINK_BASE}?token=${token}&purpose=verify`), mail.text);
      assert.match(mail.text, /within 24 hours/);
      assert.equal(await isVerified('lin@example.com'), false);
      const res = await verify(token);
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      assert.equal(await isVerified('lin@example.com'), true);
      await expectExactProblem(await verify(token), TOKEN_INVALID);
    });

    test('a signup with a registered address mails its owner a notice without any token', async () => {
      const mail = await nextMail(() => signup('lin@example.com'), 202);
      assert.deepEqual(mail.to, ['lin@example.com']);
      assert.match(mail.subject, /: someone tried to sign up with your address$/);
      assert.doesNotMatch(mail.text, /token|https?:\/\//);
    });

    test('a token past its 24 hours, an unknown one and a reset token are refused the same way', async () => {
      const token = tokenIn(await nextMail(() => signup('mo@example.com'), 202));
      const account = await accounts.findByLogin('mo@example.com');
      assert.ok(account);
      await server.db.query(`UPDATE "kiln_auth_one_time_tokens" SET "expires_at" = now() - interval '1 second' WHERE "account_id" = $1`, [account.id]);
      await expectExactProblem(await verify(token), TOKEN_INVALID);
      await expectExactProblem(await verify('no-such-token'), TOKEN_INVALID);
      const resetToken = tokenIn(await nextMail(() => server.fetch('/v1/auth/password/forgot', { method: 'POST', json: { login: 'mo@example.com' } }), 202));
      assert.ok(mailedTokens.includes(resetToken));
      await expectExactProblem(await verify(resetToken), TOKEN_INVALID);
      assert.equal(await isVerified('mo@example.com'), false);
    });

    test('a signed-in account asks for a new link, which makes the earlier one stop working', async () => {
      const first = tokenIn(await nextMail(() => signup('nia@example.com'), 202));
      const accessToken = await signIn('nia@example.com');
      const mail = await nextMail(async () => {
        const res = await requestMail(accessToken);
        assert.deepEqual(await res.clone().json(), REQUEST_ANSWER);
        return res;
      }, 202);
      assert.deepEqual(mail.to, ['nia@example.com']);
      await expectExactProblem(await verify(first), TOKEN_INVALID);
      assert.equal((await verify(tokenIn(mail))).status, 204);
      assert.equal(await isVerified('nia@example.com'), true);
    });

    test('a verified account asking for a link gets the same answer and no mail', async () => {
      const accessToken = await signIn('nia@example.com');
      const before = smtp.messages.length;
      const res = await requestMail(accessToken);
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), REQUEST_ANSWER);
      // A mail sent after it arrives alone: the request sent none.
      await nextMail(() => signup('nia@example.com'), 202);
      assert.equal(smtp.messages.length, before + 1);
      assert.match(smtp.messages.at(-1)?.subject ?? '', /someone tried to sign up/);
    });

    test('asking for a link needs a signed-in caller', async () => {
      const res = await requestMail();
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      await expectExactProblem(res, {
        type: 'https://kiln.dev/errors/KILN_UNAUTHENTICATED',
        title: 'Authentication required',
        status: 401,
        code: 'KILN_UNAUTHENTICATED',
        detail: 'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie',
      });
    });

    test('an API key of an account may ask for its link; a caller that is not an account may not', async () => {
      const first = tokenIn(await nextMail(() => signup('pia@example.com'), 202));
      const created = await server.fetch('/v1/auth/api-keys', {
        method: 'POST',
        headers: { authorization: `Bearer ${await signIn('pia@example.com')}` },
        json: { name: 'ci' },
      });
      assert.equal(created.status, 201, await created.clone().text());
      const { key } = (await created.json()).data;
      const mail = await nextMail(() => requestMail(key), 202);
      assert.deepEqual(mail.to, ['pia@example.com']);
      await expectExactProblem(await verify(first), TOKEN_INVALID);
      await expectExactProblem(await server.fetch('/v1/auth/verify/request', { method: 'POST', headers: { 'x-test-service': '1' } }), {
        type: 'https://kiln.dev/errors/KILN_FORBIDDEN',
        title: 'Forbidden',
        status: 403,
        code: 'KILN_FORBIDDEN',
        detail: 'only an account, signed in or through one of its API keys, has an email address to verify',
      });
    });

    test('asking too often for one account is a 429 with Retry-After', async () => {
      await nextMail(() => signup('ola@example.com'), 202);
      const accessToken = await signIn('ola@example.com');
      const before = smtp.messages.length;
      for (let i = 0; i < 3; i++) assert.equal((await requestMail(accessToken)).status, 202);
      await smtp.waitFor(before + 3);
      const res = await requestMail(accessToken);
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      await expectExactProblem(res, {
        type: 'https://kiln.dev/errors/KILN_RATE_LIMITED',
        title: 'Too many requests',
        status: 429,
        code: 'KILN_RATE_LIMITED',
        detail: `too many attempts for this account; retry in ${res.headers.get('retry-after')} seconds`,
      });
    });

    test('a malformed body is a 400 in the validation format', async () => {
      const missing = await expectProblem(
        (await server.fetch('/v1/auth/verify', { method: 'POST', json: {} })) as unknown as Response,
        400,
        'KILN_VALIDATION_FAILED',
      );
      assert.deepEqual(missing.errors, [{ path: '/token', code: 'required', message: '"token" is required' }]);
      const tooLong = await expectProblem((await verify('x'.repeat(129))) as unknown as Response, 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        tooLong.errors?.map((e) => e.path),
        ['/token'],
      );
    });

    test('the routes are in the OpenAPI document under the auth tag', async () => {
      const { paths } = await (await server.fetch('/openapi.json')).json();
      for (const path of ['/v1/auth/password/forgot', '/v1/auth/password/reset', '/v1/auth/verify/request', '/v1/auth/verify']) {
        assert.deepEqual(paths[path]?.post?.tags, ['auth'], path);
      }
      assert.ok(paths['/v1/auth/verify/request'].post.security, 'the authenticated route states its security');
    });

    test('no token appears in a response or in the log', () => {
      assert.ok(mailedTokens.length >= 5);
      const logText = JSON.stringify(server.logs);
      for (const token of mailedTokens) assert.ok(!logText.includes(token), 'a mailed token reached the log');
      assert.ok(server.logs.some((l) => l.msg === 'mail sent' && l.mail === 'verify'));
    });
  });
}
