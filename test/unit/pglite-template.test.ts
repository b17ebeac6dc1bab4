/**
 * In-memory PGlite from a template (src/db/pglite.ts memoryTemplate; KILN_PGLITE_MEMORY_TEMPLATE read by
 * src/db/open.ts): a database loaded from the run's template cannot be told from one initdb made, two
 * loaded from it share nothing, a data folder never reads it, and a template that cannot be used stops
 * the start with a message naming the file and the fix.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { resolveSettings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { MEMORY_TEMPLATE_ENV, openPglite } from '../../src/db/pglite.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { runCli } from '../helpers/run-cli.js';

/** What a caller of the database could observe about it before creating anything. */
const FINGERPRINT: Record<string, string> = {
  extensions: 'SELECT extname, extversion FROM pg_extension ORDER BY extname',
  roles: `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls
          FROM pg_roles ORDER BY rolname`,
  databases: `SELECT datname, pg_encoding_to_char(encoding) AS encoding, datcollate, datctype, datlocprovider, datistemplate
              FROM pg_database ORDER BY datname`,
  session: `SELECT current_database(), current_user, session_user, current_schemas(true)::text AS schemas, version()`,
  schemas: 'SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace ORDER BY nspname',
  relations: `SELECT count(*)::int AS relations FROM pg_class`,
  // Every setting in force, as SHOW prints it: search_path, encodings, locale, TimeZone, DateStyle...
  settings: 'SELECT name, setting FROM pg_settings ORDER BY name',
  // The parsers of wire-types.ts: int8, numeric and date as text, timestamptz as ISO 8601 in UTC.
  values: `SELECT 9007199254740993::int8 AS big, 1.10::numeric AS exact, '2026-01-15'::date AS day,
                  '2026-01-15 10:30:00.12+01'::timestamptz AS at, 3::int4 AS small`,
};

async function fingerprint(db: Database): Promise<Record<string, unknown>> {
  const entries = await Promise.all(Object.entries(FINGERPRINT).map(async ([name, sql]) => [name, await db.query(sql)] as const));
  return Object.fromEntries(entries);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('in-memory PGlite from the template', () => {
  let template: string;
  let fresh: Database;
  let first: Database;
  let second: Database;
  before(async () => {
    template = await pgliteTemplate();
    fresh = await openPglite(undefined);
    first = await openPglite(undefined, { memoryTemplate: template });
    second = await openPglite(undefined, { memoryTemplate: template });
  });
  after(async () => {
    await Promise.all([fresh, first, second].map((db) => db?.close()));
  });

  test('cannot be told from a database initdb made: extensions, roles, encoding, search_path, settings, parsed values', async () => {
    const expected = await fingerprint(fresh);
    assert.deepEqual(await fingerprint(first), expected);
    const [values] = expected.values as Record<string, unknown>[];
    assert.deepEqual(values, { big: '9007199254740993', exact: '1.10', day: '2026-01-15', at: '2026-01-15T09:30:00.120Z', small: 3 });
    const settings = new Map((expected.settings as { name: string; setting: string }[]).map((s) => [s.name, s.setting]));
    assert.deepEqual(
      ['TimeZone', 'search_path', 'server_encoding', 'client_encoding', 'DateStyle'].map((name) => settings.get(name)),
      ['UTC', 'public', 'UTF8', 'UTF8', 'ISO, MDY'],
    );
  });

  test('two databases from it share nothing, and the template file is left as it was', async () => {
    const before = sha256(template);
    await first.query('CREATE TABLE notes (id int PRIMARY KEY, body text)');
    await first.query(`INSERT INTO notes VALUES (1, 'only in the first')`);
    await second.query('CREATE TABLE notes (id int PRIMARY KEY, body text)');
    assert.deepEqual(await first.query('SELECT body FROM notes'), [{ body: 'only in the first' }]);
    assert.deepEqual(await second.query('SELECT body FROM notes'), []);
    const third = await openPglite(undefined, { memoryTemplate: template });
    try {
      assert.deepEqual(await third.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'notes'`), [{ n: 0 }]);
    } finally {
      await third.close();
    }
    assert.equal(sha256(template), before);
  });
});

describe('KILN_PGLITE_MEMORY_TEMPLATE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pglite-template-'));
  /** A template that is not empty, so a database made from it can be told from one initdb made. */
  const marked = join(dir, 'marked.tar');
  before(async () => {
    const source = await PGlite.create();
    await source.exec(`CREATE TABLE from_the_template (note text); INSERT INTO from_the_template VALUES ('marked')`);
    writeFileSync(marked, Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer()));
    await source.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const env = (path: string) => ({ [MEMORY_TEMPLATE_ENV]: path });

  test('an in-memory database (KILN_DATA_DIR=memory) starts from it', async () => {
    const db = await openDatabase({ ...resolveSettings({}), databaseUrl: '', dataDir: 'memory' }, env(marked));
    try {
      assert.deepEqual(await db.query('SELECT note FROM from_the_template'), [{ note: 'marked' }]);
      assert.deepEqual(await db.query('SHOW TimeZone'), [{ TimeZone: 'UTC' }]);
    } finally {
      await db.close();
    }
  });

  test('a data folder never reads it: the folder is made by initdb and keeps its own files', async () => {
    const before = sha256(marked);
    const folder = join(dir, 'data');
    const db = await openDatabase({ ...resolveSettings({}), databaseUrl: '', dataDir: folder }, env(marked));
    try {
      assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'from_the_template'`), [{ n: 0 }]);
    } finally {
      await db.close();
    }
    assert.equal(existsSync(join(folder, 'PG_VERSION')), true);
    assert.equal(sha256(marked), before);
  });

  test('an empty value is no template', async () => {
    const db = await openDatabase({ ...resolveSettings({}), databaseUrl: '', dataDir: 'memory' }, env(''));
    try {
      assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'from_the_template'`), [{ n: 0 }]);
    } finally {
      await db.close();
    }
  });

  test('a template that cannot be used stops the start with the file, the reason and the fix', async () => {
    const notTar = join(dir, 'not-a-tar.tar');
    writeFileSync(notTar, 'not a tar file '.repeat(100));
    const notData = join(dir, 'not-a-data-folder.tar');
    // A tar, but of no PostgreSQL data folder: one "notes.txt" entry.
    const header = Buffer.alloc(512);
    header.write('notes.txt', 0);
    header.write('0000644\0', 100);
    header.write('00000000000\0', 124);
    header.write('ustar\x0000', 257);
    header.write('0', 156);
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    writeFileSync(notData, Buffer.concat([header, Buffer.alloc(1024)]));
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const fix = `. Make it again from a fresh in-memory PGlite (dumpDataDir('none')), or unset ${MEMORY_TEMPLATE_ENV}.`;
    const cases: [string, string][] = [
      [join(dir, 'nowhere.tar'), 'there is no such file'],
      [folder, 'it is a folder, not a file'],
      [notTar, 'it is not an uncompressed tar file'],
      [notData, 'PGlite could not load it (PGlite failed to initialize properly)'],
    ];
    for (const [path, reason] of cases) {
      await assert.rejects(openDatabase({ ...resolveSettings({}), databaseUrl: '', dataDir: 'memory' }, env(path)), (error: unknown) => {
        assert.ok(error instanceof StartupError, String(error));
        assert.equal(error.message, `cannot start the in-memory database from the template ${path}: ${reason}${fix}`);
        return true;
      });
    }
  });

  test('kiln serve prints that message and exits 1, without a stack', async () => {
    const path = join(dir, 'nowhere.tar');
    const { code, out, err } = await runCli(['serve', '--model', BLOG_MODEL_PATH], {
      env: { DATABASE_URL: '', KILN_DATA_DIR: 'memory', REDIS_URL: '', ...env(path) },
    });
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.equal(
      err,
      `kiln serve: cannot start the in-memory database from the template ${path}: there is no such file. Make it again from a fresh in-memory PGlite (dumpDataDir('none')), or unset ${MEMORY_TEMPLATE_ENV}.`,
    );
  });
});
