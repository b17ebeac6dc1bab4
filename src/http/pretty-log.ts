/**
 * Log lines for a developer at a terminal: one coloured line per entry, read at a glance,
 *   12:00:01 INFO  GET /v1/posts 200 3.2 ms (req-1)
 * instead of pino's JSON. pino-pretty runs in this thread and writes synchronously (`sync: true`), so
 * no worker thread is started; it is meant for development, where a few µs per line do not matter.
 */
import PinoPretty from 'pino-pretty';

type Colors = Parameters<PinoPretty.MessageFormatFunc>[3]['colors'];

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields written into the line itself (below), so not repeated after it. */
const IN_LINE = 'time,level,pid,hostname,reqId,method,route,path,status,durationMs,sql,valueCount';

/** A stream that pino (and the hand-written request line) can write JSON lines to; it writes pretty lines to `destination`, or to stdout. */
export function prettyLogStream(options: { destination?: NodeJS.WritableStream; colorize: boolean }): NodeJS.WritableStream {
  return PinoPretty({
    sync: true,
    colorize: options.colorize,
    ...(options.destination ? { destination: options.destination } : {}),
    // Time and level are written by messageFormat: left to pino-pretty, they come as "[time] LEVEL:".
    ignore: IN_LINE,
    // Other fields follow on the same line; an error's stack still follows on its own lines.
    singleLine: true,
    messageFormat: (log, messageKey, _label, { colors }) => formatLine(log, messageKey, colors),
  });
}

/** Time, level, then the request (method, path, status, duration), the statement or the message, then the request id. */
function formatLine(log: Record<string, unknown>, messageKey: string, colors: Colors): string {
  const level = Number(log.level);
  const label = (LEVELS[level] ?? 'USER').padEnd(5);
  const head = `${colors.gray(clock(log.time))} ${levelColor(level, colors)(label)}`;
  const reqId = typeof log.reqId === 'string' ? ` ${colors.gray(`(${log.reqId})`)}` : '';
  if (typeof log.method === 'string' && typeof log.status === 'number') {
    const status = log.status >= 500 ? colors.red : log.status >= 400 ? colors.yellow : colors.green;
    const ms = typeof log.durationMs === 'number' ? ` ${log.durationMs.toFixed(1)} ms` : '';
    return `${head} ${colors.bold(log.method)} ${String(log.path ?? log.route ?? '')} ${status(String(log.status))}${ms}${reqId}`;
  }
  if (typeof log.sql === 'string') {
    // KILN_LOG_SQL (src/db/sql-log.ts); with `values`, the values follow the line.
    const ms = typeof log.durationMs === 'number' ? `${log.durationMs.toFixed(1)} ms ` : '';
    return `${head} ${colors.magenta('SQL')} ${ms}${log.sql}${reqId}`;
  }
  const message = log[messageKey];
  const status = typeof log.status === 'number' ? ` ${log.status}` : '';
  return `${head} ${typeof message === 'string' ? message : ''}${status}${reqId}`;
}

function levelColor(level: number, colors: Colors): (text: string) => string {
  if (level >= 50) return colors.red;
  if (level >= 40) return colors.yellow;
  if (level >= 30) return colors.green;
  return colors.blue;
}

/** HH:MM:SS in local time: a developer reads the clock on the wall. */
function clock(time: unknown): string {
  const date = new Date(typeof time === 'number' ? time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}
