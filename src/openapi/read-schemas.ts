/**
 * The two shapes of a record as clients read it. A full read (every write answer, and a GET without
 * `fields`) holds every readable field, nullable ones as null: its schema lists them all as required,
 * so generated clients type them as present. A GET with `fields` holds the id and the fields selected:
 * its own schema requires only the id, so a client that validates answers never refuses a sparse one.
 * Included relations are never required: they appear only when asked for.
 */
import type { JsonSchema } from '../core/schemas.js';
import type { Resource } from '../model/ir.js';

export interface ReadSchemas {
  readonly full: JsonSchema;
  readonly selection: JsonSchema;
}

/** `output` is core/schemas.ts's outputSchema, the one the serialiser uses (which must not require anything: it also writes sparse reads). */
export function readSchemas(r: Resource, output: JsonSchema, selectionName: string): ReadSchemas {
  const own = r.description ? `${r.description} ` : '';
  return {
    full: {
      ...output,
      description: `${own}A full read: every field is present (a nullable one as null); a relation only when included, \`_truncated\` only when an include was cut. A read with \`fields\` answers ${selectionName} instead.`,
      required: r.fields.filter((f) => !f.hidden).map((f) => f.name),
    },
    selection: {
      ...output,
      description: `${own}A read with \`fields\`: the id and the fields selected, plus the relations included.`,
      required: ['id'],
    },
  };
}

/** The record of a GET answer, which may carry `fields`: either shape. The full one first, for generators that pick the first. */
export function readItem(full: { $ref: string }, selection: { $ref: string }): JsonSchema {
  return { anyOf: [full, selection] };
}
