import { isConnectionFailure } from '../db/connection-errors.js';
import type { Model } from '../model/ir.js';
import { KilnError } from './errors.js';

interface ConstraintInfo {
  readonly resource: string;
  /** One record of the resource in words ("blog post"), for messages; of the target resource for foreign keys. */
  readonly singular: string;
  /** Field names for unique constraints; the relation name for foreign keys. */
  readonly fields: readonly string[];
  readonly relation?: string;
}

/**
 * Maps PostgreSQL errors (by SQLSTATE and constraint name) to registered errors. The driver's own
 * message never reaches a client: it can name tables, columns and values of other rows.
 */
export class DatabaseErrorMapper {
  readonly #uniques = new Map<string, ConstraintInfo>();
  readonly #foreignKeys = new Map<string, ConstraintInfo>();

  constructor(model: Model) {
    const singularOf = (name: string) => model.resourcesByName.get(name)?.singular ?? name;
    for (const r of model.resources) {
      for (const u of r.uniques) this.#uniques.set(u.name, { resource: r.name, singular: r.singular, fields: u.fields });
      for (const rel of r.relations) {
        if (rel.kind === 'belongsTo')
          this.#foreignKeys.set(rel.constraint, { resource: r.name, singular: singularOf(rel.target), fields: [rel.foreignKey], relation: rel.name });
        if (rel.kind === 'manyToMany') {
          // PostgreSQL names inline REFERENCES constraints <table>_<column>_fkey.
          this.#foreignKeys.set(`${rel.joinTable}_${rel.targetColumn}_fkey`, {
            resource: r.name,
            singular: singularOf(rel.target),
            fields: [rel.name],
            relation: rel.name,
          });
        }
      }
    }
  }

  map(error: unknown): KilnError | undefined {
    if (error instanceof KilnError) return error;
    const e = error as { code?: string; constraint?: string };
    const code = typeof e?.code === 'string' ? e.code : '';
    switch (code) {
      case '23505':
        return this.#unique(e.constraint);
      case '23503':
        return this.#foreignKey(e.constraint);
      case '57014':
        return new KilnError('KILN_DATABASE_TIMEOUT', { detail: 'the database statement took longer than the configured statement timeout', cause: error });
      case '22003':
        return new KilnError('KILN_VALIDATION_FAILED', { detail: 'a numeric value is out of range for its field' });
      case '22001':
        return new KilnError('KILN_VALIDATION_FAILED', { detail: 'a value is too long for its field' });
      // Values JSON Schema lets through but PostgreSQL refuses: year 0, a UTC offset beyond ±15:59, NUL characters.
      case '22007':
      case '22008':
      case '22009':
        return new KilnError('KILN_VALIDATION_FAILED', { detail: 'a date or time value is outside what its field can store' });
      case '22021':
      case '22P05':
        return new KilnError('KILN_VALIDATION_FAILED', { detail: 'a text value contains a character that cannot be stored (such as \\u0000)' });
    }
    if (isConnectionFailure(error)) {
      // The cause goes to the server log (never to the client), so the operator sees why.
      return new KilnError('KILN_DATABASE_UNAVAILABLE', { detail: 'the database cannot be reached right now', cause: error });
    }
    // Anything else, 08P01 (protocol violation) included, is a defect: left for the 500 handler, which logs it.
    return undefined;
  }

  #unique(constraint: string | undefined): KilnError {
    const info = constraint ? this.#uniques.get(constraint) : undefined;
    const fields = info?.fields ?? [];
    const named = fields.length > 0 ? fields.join(', ') : 'a unique field';
    return new KilnError('KILN_UNIQUE_VIOLATION', {
      detail: `another ${info?.singular ?? 'record'} already has this value of ${named}`,
      errors: fields.map((f) => ({ path: `/${f}`, code: 'unique', message: `must be unique; the value is already taken` })),
    });
  }

  #foreignKey(constraint: string | undefined): KilnError {
    const info = constraint ? this.#foreignKeys.get(constraint) : undefined;
    return new KilnError('KILN_REFERENCE_NOT_FOUND', {
      detail: info ? `relation "${info.relation}" points at a record that does not exist` : 'a relation points at a record that does not exist',
      errors: info ? [{ path: `/${info.fields[0]}`, code: 'reference', message: `no such ${info.singular}` }] : [],
    });
  }

  /**
   * A delete refused because rows of another resource still point at this one (onDelete: restrict).
   * PostgreSQL 18 reports ON DELETE RESTRICT as 23001 (restrict_violation); earlier versions as 23503.
   */
  referenceInUse(error: unknown): KilnError | undefined {
    const e = error as { code?: string; constraint?: string };
    if (e?.code !== '23503' && e?.code !== '23001') return undefined;
    const info = e.constraint ? this.#foreignKeys.get(e.constraint) : undefined;
    return new KilnError('KILN_REFERENCE_IN_USE', {
      detail: info
        ? `records of "${info.resource}" still reference this record through "${info.relation}"; delete them first or use onDelete: cascade`
        : 'other records still reference this record',
    });
  }
}
