/**
 * The migrations folder: one folder per migration, named `<UTC timestamp>_<name>` so they sort in
 * the order they were generated, each holding up.sql, down.sql and snapshot.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MigrateError } from './errors.js';
import { IRREVERSIBLE_MARK } from './render.js';
import { EMPTY_SNAPSHOT, parseSnapshot, type Snapshot } from './snapshot.js';

export interface MigrationFiles {
  readonly name: string;
  readonly dir: string;
  readonly up: string;
  readonly down: string;
  readonly snapshot: Snapshot;
  /** Of up.sql and snapshot.json: editing either after the migration was applied is refused. */
  readonly checksum: string;
  readonly irreversible: boolean;
}

const FOLDER = /^\d{14}_[a-z0-9][a-z0-9-]*$/;

/** Migrations live beside the model file unless told otherwise. */
export function defaultMigrationsDir(modelPath: string): string {
  return join(dirname(resolve(modelPath)), 'migrations');
}

/** Line endings are normalised first, so a checkout on Windows does not look like an edit. */
export function checksumOf(up: string, snapshot: string): string {
  const hash = createHash('sha256');
  hash.update(up.replace(/\r\n/g, '\n'));
  hash.update('\u0000');
  hash.update(snapshot.replace(/\r\n/g, '\n'));
  return `sha256:${hash.digest('hex')}`;
}

/** Every migration in the folder, oldest first. A missing folder holds none. */
export function listMigrations(dir: string): MigrationFiles[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => readMigration(dir, name));
}

function readMigration(dir: string, name: string): MigrationFiles {
  const folder = join(dir, name);
  const read = (file: string) => {
    const path = join(folder, file);
    if (!existsSync(path)) throw new MigrateError(`migration ${name} has no ${file} (in ${folder}); restore it from version control`);
    return readFileSync(path, 'utf8');
  };
  const up = read('up.sql');
  const down = read('down.sql');
  const snapshotText = read('snapshot.json');
  return {
    name,
    dir: folder,
    up,
    down,
    snapshot: parseSnapshot(snapshotText, join(folder, 'snapshot.json')),
    checksum: checksumOf(up, snapshotText),
    irreversible: down.startsWith(IRREVERSIBLE_MARK),
  };
}

export function lastSnapshot(migrations: readonly MigrationFiles[]): Snapshot {
  return migrations.at(-1)?.snapshot ?? EMPTY_SNAPSHOT;
}

export function slugify(text: string): string {
  return (
    text
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'migration'
  );
}

/** `<UTC yyyymmddhhmmss>_<slug>`, always later than the newest existing migration. */
export function migrationName(now: Date, slug: string, existing: readonly string[]): string {
  let stamp = timestamp(now);
  const newest = existing.at(-1)?.slice(0, 14);
  if (newest !== undefined && stamp <= newest) stamp = timestamp(new Date(parseStamp(newest).getTime() + 1000));
  return `${stamp}_${slugify(slug)}`;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function parseStamp(stamp: string): Date {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => stamp.slice(i, k === 0 ? 4 : i + 2));
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

export function writeMigration(dir: string, name: string, files: { up: string; down: string; snapshot: string }): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'up.sql'), files.up);
  writeFileSync(join(folder, 'down.sql'), files.down);
  writeFileSync(join(folder, 'snapshot.json'), files.snapshot);
  return folder;
}
