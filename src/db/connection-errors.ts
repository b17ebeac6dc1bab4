/**
 * Which driver errors mean "the database connection is gone or cannot be had" rather than "this
 * statement failed". The answer decides two things: such an error is a 503 with Retry-After
 * (database-errors.ts), and a transaction that hit one is not rolled back on its connection but
 * handed back to the pool with the error, which closes the connection (the server then rolls back).
 */

/**
 * SQLSTATEs of a lost or refused connection (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * class 08 connection exception, 53 insufficient resources (53300 too many connections), 57P01–57P05
 * (admin shutdown as sent by pg_terminate_backend, crash shutdown, cannot connect now, database
 * dropped, idle session timeout), and 25P03 (idle-in-transaction timeout, which closes the session).
 * 08P01 is left out on purpose: a protocol violation (such as more than 65,535 bind parameters) is a
 * defect of the statement Kiln sent, not an outage, and retrying it would fail the same way.
 */
const SQLSTATE = /^(08(?!P01)|53|57P0[1-5]$|25P03$)/;

/** Socket errors of Node (errno codes) on the way to the database. */
const ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Errors pg raises without a code when a connection dies or cannot be had: the socket closed
 * ("Connection terminated unexpectedly"), a statement sent on a client that already failed ("… is not
 * queryable"), or no connection within KILN_DB_CONNECT_TIMEOUT_MS ("timeout exceeded when trying to
 * connect", "Connection terminated due to connection timeout").
 */
const PG_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/** True when `error` says the connection to the database is lost or could not be opened. */
export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code !== '') return SQLSTATE.test(code) || ERRNO.has(code);
  return typeof message === 'string' && PG_MESSAGE.test(message);
}
