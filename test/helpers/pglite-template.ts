/**
 * The template every fresh in-memory PGlite of a test run starts from (src/db/pglite.ts, memoryTemplate):
 * initdb is most of PGlite's start-up, and the suite opens a database per server, per backend.
 *
 * scripts/test.js makes it before the test processes start and hands its path to all of them, and to
 * the `kiln` processes they start, in KILN_PGLITE_MEMORY_TEMPLATE. A test file run without it (plain
 * `node --test`) makes it here on first use. Either way it is kept in the system's temporary folder,
 * named by the PGlite version, since a dump only suits the PGlite that made it; written under another
 * name and renamed into place, so a process reading it sees all of it or none, however many make it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { MEMORY_TEMPLATE_ENV } from '../../src/db/pglite.js';

/** Raised when what goes into the template changes, so an older file in the temporary folder is not used. */
const TEMPLATE_FORMAT = 1;

let made: Promise<string> | undefined;

/** The path of the run's template, made on first use when the run did not provide one. */
export function pgliteTemplate(): Promise<string> {
  const given = process.env[MEMORY_TEMPLATE_ENV];
  if (given) return Promise.resolve(given);
  made ??= makePgliteTemplate(defaultTemplatePath());
  return made;
}

/** Where the template of this PGlite version is kept. */
export function defaultTemplatePath(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return join(tmpdir(), `kiln-pglite-${version}-memory-template-${TEMPLATE_FORMAT}.tar`);
}

/**
 * Writes the data folder of a fresh in-memory PGlite to `path`, unless a file is there already. The
 * instance is made with PGlite's defaults and nothing run on it: the parsers and the time zone that
 * openPglite sets belong to the connection, not to the files, and are set again on every copy.
 */
export async function makePgliteTemplate(path: string): Promise<string> {
  if (existsSync(path)) return path;
  const fresh = await PGlite.create();
  const partial = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  try {
    const dump = await fresh.dumpDataDir('none');
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, path);
  } finally {
    await fresh.close();
    await rm(partial, { force: true });
  }
  return path;
}
