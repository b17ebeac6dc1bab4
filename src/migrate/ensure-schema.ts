/**
 * Start-up schema creation for programmatic use and tests (`startKiln` without migrations): creates
 * the tables the model needs that are missing, then holds every table of the model to exactly what
 * the model would create — columns, types, defaults, constraints, foreign keys, indexes — with the
 * same comparison `kiln migrate verify` uses. Nothing is altered: a difference stops start-up, and
 * the tables created on the way are rolled back with it.
 */
import type { Database } from '../db/database.js';
import { KILN_TABLES_LOCK } from '../db/kiln-tables.js';
import type { Model } from '../model/ir.js';
import { createAll, INTERNAL_TABLES } from '../sql/ddl.js';
import { ident } from '../sql/fragments.js';
import { compareSchemas, expectedSchema, introspect, type LiveSchema } from './introspect.js';
import { snapshotOf } from './snapshot.js';

export class SchemaMismatchError extends Error {
  constructor(readonly differences: readonly string[]) {
    super(
      `the database does not match the model:\n  - ${differences.join('\n  - ')}\n` +
        'Kiln will not start on a schema that disagrees with the model: change the model to match, ' +
        'or migrate the table (or drop it in development).',
    );
    this.name = 'SchemaMismatchError';
  }
}

export async function ensureSchema(db: Database, model: Model, schema: string): Promise<{ created: string[] }> {
  if (db.kind === 'postgres') await db.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
  const snapshot = snapshotOf(model);
  const { tables } = snapshot;
  return db.transaction(async (tx) => {
    // Servers starting together on one schema take turns (see kiln-tables.ts).
    if (db.kind === 'postgres') await tx.query(KILN_TABLES_LOCK);
    const before = await introspect(tx);
    const missing = tables.filter((t) => !before.has(t.name));
    for (const statement of [...createAll(missing), ...Object.values(INTERNAL_TABLES)]) await tx.query(statement);
    // On an empty schema everything was just created from the model: nothing can differ.
    if (missing.length < tables.length) {
      const expected = await expectedSchema(tx, snapshot);
      const differences = compareSchemas(only(await introspect(tx), expected), expected).map((d) => d.replaceAll('the snapshot', 'the model'));
      if (differences.length > 0) throw new SchemaMismatchError(differences);
    }
    return { created: missing.map((t) => t.name) };
  });
}

/** Tables the model does not know (another application's, in a shared schema) are not Kiln's to judge. */
function only(actual: LiveSchema, expected: LiveSchema): LiveSchema {
  return new Map([...actual].filter(([name]) => expected.has(name)));
}
