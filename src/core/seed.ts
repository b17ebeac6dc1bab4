import type { Database } from '../db/database.js';
import type { Model } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import { ident } from '../sql/fragments.js';
import { compileInsert, compileLink } from '../sql/write.js';
import { TRUE } from './predicate.js';

export type SeedData = Record<string, Record<string, unknown>[]>;

/**
 * Loads seed records when every table of the model is empty (the first run), in one transaction.
 * Seeds may give ids, so records can point at each other; identity sequences are moved past them.
 */
export async function seedIfEmpty(db: Database, model: Model, seed: SeedData): Promise<boolean> {
  for (const r of model.resources) {
    const [row] = await db.query(`SELECT EXISTS (SELECT 1 FROM ${ident(r.table)}) AS "any"`);
    if (row?.any) return false;
  }
  await db.transaction(async (tx) => {
    for (const [name, records] of Object.entries(seed)) {
      const resource = getResource(model, name);
      for (const record of records) {
        const values: Record<string, unknown> = {};
        const links = new Map<string, unknown[]>();
        for (const [key, value] of Object.entries(record)) {
          if (resource.relationsByName.get(key)?.kind === 'manyToMany') links.set(key, value as unknown[]);
          else values[key] = value;
        }
        const insert = compileInsert(model, resource, [values], ['id']);
        const [inserted] = await tx.query<{ id: unknown }>(insert.text, insert.values);
        for (const [relName, ids] of links) {
          const relation = resource.relationsByName.get(relName);
          if (relation?.kind !== 'manyToMany' || ids.length === 0) continue;
          const target = getResource(model, relation.target);
          const types = { source: resource.idType, target: target.idType };
          const link = compileLink(model, relation, target, types, { parents: ids.map(() => inserted?.id), targets: ids }, TRUE);
          await tx.query(link.text, link.values);
        }
      }
      if (resource.idType === 'bigint') {
        await tx.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT max("id") FROM ${ident(resource.table)}), 1))`, [resource.table]);
      }
    }
  });
  return true;
}
