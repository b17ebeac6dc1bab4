import type { Model } from '../model/ir.js';
import { KilnError } from './errors.js';

interface ConstraintInfo {
  readonly resource: string;
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
    for (const r of model.resources) {
      for (const u of r.uniques) this.#uniques.set(u.name, { resource: r.name, fields: u.fields });
      for (const rel of r.relations) {
        if (rel.kind === 'belongsTo') this.#foreignKeys.set(rel.constraint, { resource: r.name, fields: [rel.foreignKey], relation: rel.name });
        if (rel.kind === 'manyToMany') {
          // PostgreSQL names inline REFERENCES constraints <table>_<column>_fkey.
          this.#foreignKeys.set(`${rel.joinTable}_${rel.targetColumn}_fkey`, { resource: r.name, fields: [rel.name], relation: rel.name });
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
        return new KilnError('KILN_DATABASE_TIMEOUT', { detail: 'the database statement took longer than the configured statement timeout' });
      case '22003':
        return new KilnError('KILN_VALIDATION_FAILED', { detail: 'a numeric value is out of range for its field' });
      case '22001':
        return new KilnError('KILN_VALIDATION_FAILED', { detail: 'a value is too long for its field' });
    }
    if (
      /^(08|53|57P)/.test(code) ||
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'].includes(code) ||
      /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i.test(String((error as Error)?.message))
    ) {
      return new KilnError('KILN_DATABASE_UNAVAILABLE', { detail: 'the database cannot be reached right now' });
    }
    return undefined;
  }

  #unique(constraint: string | undefined): KilnError {
    const info = constraint ? this.#uniques.get(constraint) : undefined;
    const fields = info?.fields ?? [];
    const named = fields.length > 0 ? fields.join(', ') : 'a unique field';
    return new KilnError('KILN_UNIQUE_VIOLATION', {
      detail: `another ${info?.resource ?? 'record'} already has this value of ${named}`,
      errors: fields.map((f) => ({ path: `/${f}`, code: 'unique', message: `must be unique; the value is already taken` })),
    });
  }

  #foreignKey(constraint: string | undefined): KilnError {
    const info = constraint ? this.#foreignKeys.get(constraint) : undefined;
    return new KilnError('KILN_REFERENCE_NOT_FOUND', {
      detail: info ? `relation "${info.relation}" points at a record that does not exist` : 'a relation points at a record that does not exist',
      errors: info ? [{ path: `/${info.fields[0]}`, code: 'reference', message: `no such ${info.relation} record` }] : [],
    });
  }

  /** A delete refused because rows of another resource still point at this one (onDelete: restrict). */
  referenceInUse(error: unknown): KilnError | undefined {
    const e = error as { code?: string; constraint?: string };
    if (e?.code !== '23503') return undefined;
    const info = e.constraint ? this.#foreignKeys.get(e.constraint) : undefined;
    return new KilnError('KILN_REFERENCE_IN_USE', {
      detail: info
        ? `records of "${info.resource}" still reference this record through "${info.relation}"; delete them first or use onDelete: cascade`
        : 'other records still reference this record',
    });
  }
}
