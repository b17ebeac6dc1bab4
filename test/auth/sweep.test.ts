import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sweepExpired } from '../../src/auth/sweep.js';
import { AUTH_TABLES } from '../../src/auth/tables.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';

const IDLE_S = 600;

for (const backend of BACKENDS) {
  describe(`the sweep of expired sessions and tokens (${backend})`, () => {
    let test0: TestDatabase;
    before(async () => {
      test0 = await createTestDatabase(backend);
      for (const statement of AUTH_TABLES) await test0.db.query(statement);
    });
    after(() => test0.dispose());

    const ids = async (table: string, column: string) =>
      (await test0.db.query<{ id: string }>(`SELECT "${column}" AS "id" FROM "${table}" ORDER BY 1`)).map((r) => r.id);

    test('removes what no longer works and keeps what still does', async () => {
      const db = test0.db;
      await db.query(
        `INSERT INTO "kiln_auth_sessions" ("id_hash", "account_id", "csrf_token", "last_seen_at", "expires_at", "roles", "password_stamp") VALUES
         ('live', '1', 'c', now(), now() + interval '1 hour', '[]', ''),
         ('idle', '1', 'c', now() - interval '11 minutes', now() + interval '1 hour', '[]', ''),
         ('over', '1', 'c', now(), now() - interval '1 second', '[]', '')`,
      );
      await db.query(
        `INSERT INTO "kiln_auth_refresh_tokens" ("token_hash", "family", "account_id", "family_expires_at") VALUES
         ('live', gen_random_uuid(), '1', now() + interval '1 day'), ('old', gen_random_uuid(), '1', now() - interval '1 second')`,
      );
      await db.query(
        `INSERT INTO "kiln_auth_one_time_tokens" ("token_hash", "purpose", "account_id", "expires_at", "used_at") VALUES
         ('live', 'reset', '1', now() + interval '1 hour', NULL), ('spent', 'reset', '1', now() + interval '1 hour', now()),
         ('old', 'verify', '1', now() - interval '1 second', NULL)`,
      );
      await db.query(
        `INSERT INTO "kiln_auth_oidc_flows" ("state_hash", "provider", "code_verifier", "nonce", "mode", "expires_at", "browser_hash") VALUES
         ('live', 'p', 'v', 'n', 'session', now() + interval '5 minutes', 'b'), ('old', 'p', 'v', 'n', 'session', now() - interval '1 second', 'b')`,
      );
      await sweepExpired(db, { authSessionIdleS: IDLE_S });
      assert.deepEqual(await ids('kiln_auth_sessions', 'id_hash'), ['live']);
      assert.deepEqual(await ids('kiln_auth_refresh_tokens', 'token_hash'), ['live']);
      assert.deepEqual(await ids('kiln_auth_one_time_tokens', 'token_hash'), ['live']);
      assert.deepEqual(await ids('kiln_auth_oidc_flows', 'state_hash'), ['live']);
    });
  });
}
