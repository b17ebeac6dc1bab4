/** What `kiln serve` does with migrations before it listens (see startKiln's `schema` option). */
import type { Database } from '../db/database.js';
import { createKilnTables } from '../db/kiln-tables.js';
import type { Model } from '../model/ir.js';
import { INTERNAL_TABLES } from '../sql/ddl.js';
import { ident } from '../sql/fragments.js';
import { migrateUp } from './runner.js';
import { assertReadyToServe } from './status.js';

export interface MigratedSchemaOptions {
  readonly dir: string;
  /** Apply pending migrations first (`serve --migrate`, `dev`); otherwise pending ones stop the start. */
  readonly apply?: boolean;
  readonly log?: (line: string) => void;
}

/** PostgreSQL resolves nothing in a search_path schema that does not exist, so create it first. */
export async function createSchemaIfMissing(db: Database, schema: string): Promise<void> {
  if (db.kind === 'postgres') await db.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
}

export async function prepareMigratedSchema(db: Database, model: Model, schema: string, options: MigratedSchemaOptions): Promise<void> {
  await createSchemaIfMissing(db, schema);
  if (options.apply) await migrateUp(db, options.dir, { log: options.log });
  await assertReadyToServe(db, options.dir, model);
  // Kiln's own bookkeeping tables are not part of the model's migrations.
  await createKilnTables(db, Object.values(INTERNAL_TABLES));
}
