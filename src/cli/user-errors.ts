import { ConfigError } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { SchemaMismatchError } from '../migrate/ensure-schema.js';
import { MigrateError } from '../migrate/errors.js';
import { SnapshotError } from '../migrate/snapshot.js';
import { ModelError } from '../model/load.js';

/**
 * The failures a user can fix (a model problem, a setting, the database or port at start-up, a
 * migration): the CLI prints their message, which says what and how to fix it, never a stack.
 * Anything else is a bug in Kiln and keeps its stack.
 */
export function isUserError(error: unknown): error is Error {
  return (
    error instanceof ModelError ||
    error instanceof ConfigError ||
    error instanceof StartupError ||
    error instanceof SchemaMismatchError ||
    error instanceof MigrateError ||
    error instanceof SnapshotError
  );
}
