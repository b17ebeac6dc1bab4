/**
 * Refresh tokens over HTTP: each works once and hands out the next; a spent one presented again
 * revokes its whole family (the token it was exchanged for too); of two concurrent refreshes with one
 * token exactly one succeeds; a family ends at its lifetime however often it is refreshed; signing
 * out revokes the family. Only hashes are stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../../src/auth/secrets.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { accountsModel, expectExactProblem, FAST_HASHING, login, REFRESH_INVALID, REFRESH_REUSED, refresh, signedUp, tokensOf } from './accounts-helpers.js';

for (const backend of BACKENDS) {
  describe(`refresh tokens (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(accountsModel(), backend, { ...FAST_HASHING, authRateLimitIp: 10000 });
    });
    after(() => server.close());

    const logout = (refreshToken: unknown) => server.fetch('/v1/auth/logout', { method: 'POST', json: { refreshToken } });
    const rows = (sql: string, values: unknown[]) => server.db.query<Record<string, unknown>>(sql, values);

    test('a refresh answers a new pair; the token is rotated and stored only as its hash', async () => {
      const first = await signedUp(server, 'rotate@example.com');
      const second = await tokensOf(await refresh(server, first.refreshToken));
      assert.notEqual(second.refreshToken, first.refreshToken);
      assert.notEqual(second.accessToken, first.accessToken);
      assert.match(second.refreshToken, /^[A-Za-z0-9_-]{43}$/);
      const stored = await rows('SELECT "token_hash", "used_at" FROM "kiln_auth_refresh_tokens" WHERE "token_hash" = ANY($1)', [
        [first.refreshToken, second.refreshToken, hashSecret(first.refreshToken), hashSecret(second.refreshToken)],
      ]);
      assert.equal(stored.length, 2, 'both hashes, and no token in clear');
      const third = await tokensOf(await refresh(server, second.refreshToken));
      const me = await server.fetch('/v1/auth/me', { headers: { authorization: `Bearer ${third.accessToken}` } });
      assert.equal(me.status, 200);
    });

    test('a spent token presented again revokes its family, the token it was exchanged for too', async () => {
      const first = await signedUp(server, 'reuse@example.com');
      const second = await tokensOf(await refresh(server, first.refreshToken));
      const other = await tokensOf(await login(server, 'reuse@example.com'));
      await expectExactProblem(await refresh(server, first.refreshToken), 401, 'KILN_AUTH_REFRESH_REUSED', REFRESH_REUSED);
      await expectExactProblem(await refresh(server, second.refreshToken), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      await expectExactProblem(await refresh(server, first.refreshToken), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      await tokensOf(await refresh(server, other.refreshToken));
    });

    test('of two concurrent refreshes with one token, exactly one succeeds', async () => {
      for (let round = 0; round < 3; round++) {
        const { refreshToken } = await signedUp(server, `race${round}@example.com`);
        const answers = await Promise.all([refresh(server, refreshToken), refresh(server, refreshToken)]);
        const statuses = answers.map((a) => a.status).sort();
        assert.deepEqual(statuses, [200, 401], `round ${round}`);
        const loser = answers.find((a) => a.status === 401);
        assert.ok(loser);
        await expectExactProblem(loser, 401, 'KILN_AUTH_REFRESH_REUSED', REFRESH_REUSED);
        const family = await rows(
          'SELECT count(*)::int AS "n" FROM "kiln_auth_refresh_tokens" WHERE "family" = (SELECT "family" FROM "kiln_auth_refresh_tokens" WHERE "token_hash" = $1)',
          [hashSecret(refreshToken)],
        );
        assert.equal(family[0]?.n, 2, 'one rotation happened, not two');
      }
    });

    test('a family ends at its lifetime, however often it was refreshed', async () => {
      const first = await signedUp(server, 'expire@example.com');
      const second = await tokensOf(await refresh(server, first.refreshToken));
      await rows(
        `UPDATE "kiln_auth_refresh_tokens" SET "family_expires_at" = now() - interval '1 second'
         WHERE "family" = (SELECT "family" FROM "kiln_auth_refresh_tokens" WHERE "token_hash" = $1)`,
        [hashSecret(second.refreshToken)],
      );
      await expectExactProblem(await refresh(server, second.refreshToken), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      await expectExactProblem(await refresh(server, first.refreshToken), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      const fresh = await tokensOf(await login(server, 'expire@example.com'));
      const left = await rows('SELECT count(*)::int AS "n" FROM "kiln_auth_refresh_tokens" WHERE "token_hash" = $1', [hashSecret(first.refreshToken)]);
      assert.equal(left[0]?.n, 0, 'the next sign-in clears the expired family');
      await tokensOf(await refresh(server, fresh.refreshToken));
    });

    test('the lifetime of a family comes from KILN_AUTH_REFRESH_TTL_S, counted from the sign-in', async () => {
      const { refreshToken } = await signedUp(server, 'ttl@example.com');
      const [row] = await rows(
        'SELECT extract(epoch FROM "family_expires_at" - "created_at")::int AS "seconds" FROM "kiln_auth_refresh_tokens" WHERE "token_hash" = $1',
        [hashSecret(refreshToken)],
      );
      assert.equal(row?.seconds, 2592000);
      const next = await tokensOf(await refresh(server, refreshToken));
      const [after] = await rows(
        'SELECT a."family_expires_at" = b."family_expires_at" AS "same" FROM "kiln_auth_refresh_tokens" a, "kiln_auth_refresh_tokens" b WHERE a."token_hash" = $1 AND b."token_hash" = $2',
        [hashSecret(refreshToken), hashSecret(next.refreshToken)],
      );
      assert.equal(after?.same, true, 'a refresh does not extend the family');
    });

    test('an unknown or malformed refresh token is refused', async () => {
      await expectExactProblem(await refresh(server, 'A'.repeat(43)), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      await expectExactProblem(await refresh(server, 'x'.repeat(257)), 400, 'KILN_VALIDATION_FAILED', '/refreshToken: must have at most 256 characters', [
        { path: '/refreshToken', code: 'maxLength', message: 'must have at most 256 characters' },
      ]);
      await expectExactProblem(await refresh(server, ''), 400, 'KILN_VALIDATION_FAILED', '/refreshToken: must have at least 1 character', [
        { path: '/refreshToken', code: 'minLength', message: 'must have at least 1 character' },
      ]);
      const missing = await server.fetch('/v1/auth/refresh', { method: 'POST', json: {} });
      await expectExactProblem(missing, 400, 'KILN_VALIDATION_FAILED', '/refreshToken: "refreshToken" is required', [
        { path: '/refreshToken', code: 'required', message: '"refreshToken" is required' },
      ]);
    });

    test('signing out revokes the family of the token; an unknown token is answered 204 too', async () => {
      const first = await signedUp(server, 'logout@example.com');
      const second = await tokensOf(await refresh(server, first.refreshToken));
      const kept = await tokensOf(await login(server, 'logout@example.com'));
      const res = await logout(first.refreshToken);
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      await expectExactProblem(await refresh(server, second.refreshToken), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      assert.equal((await logout('B'.repeat(43))).status, 204);
      assert.equal((await logout(second.refreshToken)).status, 204, 'twice is fine');
      await tokensOf(await refresh(server, kept.refreshToken));
      await expectExactProblem(await logout(42), 400, 'KILN_VALIDATION_FAILED', '/refreshToken: must be a string', [
        { path: '/refreshToken', code: 'type', message: 'must be a string' },
      ]);
    });
  });
}
