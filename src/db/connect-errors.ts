/**
 * The first connection to PostgreSQL on start, failed: one sentence that says where Kiln tried to
 * connect, what the server or the network answered, and which setting to change. Mapped by SQLSTATE
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html) or Node's errno code; the password of
 * DATABASE_URL never appears, not even when a driver message quotes the URL.
 */

interface Target {
  /** ` at host:port` as DATABASE_URL gives them (pg's defaults otherwise); empty when the URL does not parse. */
  readonly where: string;
  readonly host: string;
  readonly database: string;
  readonly password: string;
}

function targetOf(url: string): Target {
  try {
    const u = new URL(url);
    // A host in the query (`?host=/var/run/postgresql`) is a Unix socket folder and wins over the URL's.
    const host = u.searchParams.get('host') ?? (decodeURIComponent(u.hostname) || 'localhost');
    const port = u.searchParams.get('port') ?? (u.port || '5432');
    return {
      where: host.startsWith('/') ? ` at ${host} (socket, port ${port})` : ` at ${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`,
      host,
      database: decodeURIComponent(u.pathname.slice(1)),
      password: decodeURIComponent(u.password),
    };
  } catch {
    return { where: '', host: '', database: '', password: '' };
  }
}

/** What went wrong, and what to do about it. */
function diagnose(error: unknown, target: Target, connectTimeoutMs: number): { reason: string; fix: string } {
  const { code, message = '' } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: string };
  switch (code) {
    case '28P01':
      return { reason: message, fix: 'Check the user name and password in DATABASE_URL.' };
    case '28000':
      return /role .* does not exist/.test(message)
        ? { reason: message, fix: 'Fix the user name in DATABASE_URL, or create the role in PostgreSQL (CREATE ROLE … LOGIN).' }
        : { reason: message, fix: 'Allow this user, database and host in pg_hba.conf, or change them in DATABASE_URL.' };
    case '3D000':
      return {
        reason: message,
        fix: `Create the database (createdb ${target.database || '<name>'}), or fix the database name in DATABASE_URL.`,
      };
    case '42501':
      return { reason: message, fix: 'Grant the user CONNECT on the database, or use another user in DATABASE_URL.' };
    case '53300':
      return { reason: message, fix: 'Close other connections or raise max_connections in PostgreSQL, or lower KILN_DB_POOL_MAX.' };
    case '57P03':
      return { reason: message, fix: 'Wait until PostgreSQL has started, then start Kiln again.' };
    case 'ECONNREFUSED':
      return { reason: 'the connection was refused', fix: 'Start PostgreSQL there, or fix the host and port in DATABASE_URL.' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: `the host name "${target.host}" was not found`, fix: 'Fix the host in DATABASE_URL.' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return {
        reason: `the host cannot be reached (${code})`,
        fix: 'Check the host and port in DATABASE_URL, and that the network lets the connection through.',
      };
  }
  if (/timeout exceeded when trying to connect|connection timeout/i.test(message)) {
    return {
      reason: `no answer within ${connectTimeoutMs} ms`,
      fix: 'Check that PostgreSQL is running and reachable there, or raise KILN_DB_CONNECT_TIMEOUT_MS.',
    };
  }
  // pg asks for the password only when the server wants one, and fails in the SASL (SCRAM) exchange when there is none.
  if (/client password must be a string/i.test(message)) {
    return {
      reason: 'the server asks for a password, and DATABASE_URL has none',
      fix: 'Put it in DATABASE_URL after the user name and a colon, before the @ (percent-encode special characters).',
    };
  }
  if (/does not support SSL/i.test(message)) return { reason: message, fix: 'Remove sslmode or ssl from DATABASE_URL, or enable SSL in PostgreSQL.' };
  return { reason: message || String(error), fix: 'Check DATABASE_URL.' };
}

/** The start-up message for a failed first connection to the database of `url`. */
export function connectFailureMessage(error: unknown, url: string, connectTimeoutMs: number): string {
  const target = targetOf(url);
  const { reason, fix } = diagnose(error, target, connectTimeoutMs);
  const text = `cannot connect to PostgreSQL${target.where} (DATABASE_URL): ${reason.replace(/\.$/, '')}. ${fix}`;
  // A URL quoted in a driver message, then the password itself wherever it shows.
  const masked = text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1****@');
  return target.password === '' ? masked : masked.split(target.password).join('****');
}
