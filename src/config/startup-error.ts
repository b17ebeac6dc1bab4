/**
 * A start-up failure the user can fix (a database that refuses the connection, a port in use, a data
 * folder another process holds, a bad seed record). The CLI prints its message, which names the
 * setting and the fix, and exits with 1: never a stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
