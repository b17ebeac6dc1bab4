import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { castPlan } from '../../src/migrate/cast.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';

/** from type, to type, a value of the old type (SQL), the converted value as text. */
const CASTS: [string, string, string, string][] = [
  ['integer', 'bigint', '42', '42'],
  ['integer', 'numeric(12, 2)', '42', '42.00'],
  ['bigint', 'integer', '42', '42'],
  ['bigint', 'double precision', '42', '42'],
  ['numeric(10, 2)', 'numeric(12, 3)', '1.5', '1.500'],
  ['double precision', 'integer', '1.5', '2'],
  ['double precision', 'numeric', '1.5', '1.5'],
  ['varchar(100)', 'varchar(200)', `'ab'`, 'ab'],
  ['text', 'varchar(10)', `'ab'`, 'ab'],
  ['uuid', 'varchar(36)', `'00000000-0000-0000-0000-000000000001'`, '00000000-0000-0000-0000-000000000001'],
  ['integer', 'text', '42', '42'],
  ['text', 'integer', `'42'`, '42'],
  ['text', 'numeric(10, 2)', `'1.5'`, '1.50'],
  ['text', 'date', `'2025-01-02'`, '2025-01-02'],
  ['text', 'boolean', `'true'`, 'true'],
  ['text', 'uuid', `'00000000-0000-0000-0000-000000000001'`, '00000000-0000-0000-0000-000000000001'],
  ['date', 'timestamptz(3)', `'2025-01-02'`, '2025-01-02 00:00:00+00'],
  ['timestamptz(3)', 'date', `'2025-01-02 10:00:00+00'`, '2025-01-02'],
  ['boolean', 'integer', 'true', '1'],
  ['boolean', 'bigint', 'true', '1'],
  ['boolean', 'numeric(5, 1)', 'true', '1.0'],
  ['integer', 'boolean', '1', 'true'],
  ['text', 'jsonb', `'hi'`, '"hi"'],
  ['integer', 'jsonb', '42', '42'],
  ['jsonb', 'text', `'"hi"'`, 'hi'],
  ['jsonb', 'integer', `'42'`, '42'],
  ['jsonb', 'varchar(10)', `'"hi"'`, 'hi'],
  ['jsonb', 'numeric(10, 2)', `'1.5'`, '1.50'],
];

for (const backend of BACKENDS) {
  describe(`every planned type change runs on PostgreSQL and keeps the value (${backend})`, () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase(backend);
    });
    after(() => db.dispose());

    for (const [from, to, value, expected] of CASTS) {
      test(`${from} → ${to}`, async () => {
        const plan = castPlan('c', from, to);
        assert.notEqual(plan.kind, 'impossible');
        const [row] = await db.db
          .transaction(async (tx) => {
            await tx.query(`CREATE TABLE "cast_test" ("c" ${from})`);
            await tx.query(`INSERT INTO "cast_test" VALUES (${value})`);
            await tx.query(`ALTER TABLE "cast_test" ALTER COLUMN "c" TYPE ${to}${plan.kind !== 'impossible' && plan.using ? ` USING ${plan.using}` : ''}`);
            const rows = await tx.query<{ c: string }>(`SELECT "c"::text AS "c" FROM "cast_test"`);
            throw Object.assign(new Error('roll back'), { rows });
          })
          .catch((error: Error & { rows?: { c: string }[] }) => {
            if (!error.rows) throw error;
            return error.rows;
          });
        assert.equal(row?.c, expected);
      });
    }

    test('a narrowing change fails on a value that does not fit, instead of truncating it', async () => {
      const error = await db.db
        .transaction(async (tx) => {
          await tx.query(`CREATE TABLE "cast_test" ("c" text)`);
          await tx.query(`INSERT INTO "cast_test" VALUES ('far too long')`);
          await tx.query(`ALTER TABLE "cast_test" ALTER COLUMN "c" TYPE varchar(5)`);
        })
        .catch((e: Error) => e);
      assert.match(String(error), /value too long for type character varying\(5\)/);
    });
  });
}
