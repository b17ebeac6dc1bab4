/** The only ways text enters SQL: quoted identifiers and numbered parameters. */

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(alias: string, column: string): string {
  return `${alias}.${ident(column)}`;
}

/** Collects parameter values and hands out their `$n` placeholders. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

/** Escapes LIKE wildcards so a user's `%` or `_` matches itself. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
