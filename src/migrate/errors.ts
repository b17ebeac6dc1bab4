/** Errors a person can act on. The CLI prints their message (never a stack) and exits with 1. */
export class MigrateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateError';
  }
}

/** A migration failed while running; its transaction was rolled back, so the database is as before it. */
export class MigrationFailedError extends MigrateError {
  constructor(
    readonly migration: string,
    readonly statement: string,
    override readonly cause: Error,
  ) {
    super(
      `migration ${migration} failed and was rolled back; the database is as it was before it.\n` +
        `  statement: ${statement.length > 500 ? `${statement.slice(0, 500)}…` : statement}\n` +
        `  error: ${cause.message}`,
    );
    this.name = 'MigrationFailedError';
  }
}

/** Migrations exist that the database has not applied; `kiln serve` will not start on them. */
export class PendingMigrationsError extends MigrateError {
  constructor(readonly pending: readonly string[]) {
    const noun = pending.length === 1 ? 'migration is' : 'migrations are';
    super(
      `${pending.length} ${noun} not applied to the database:\n${pending.map((p) => `  - ${p}`).join('\n')}\n` +
        'Apply them with "kiln migrate up" (or start with --migrate to apply them on start-up).',
    );
    this.name = 'PendingMigrationsError';
  }
}
