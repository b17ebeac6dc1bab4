/**
 * KILN_LOG_SQL: every statement logged with its duration, for a developer asking "what did this
 * request run, and what was slow". Values are left out unless asked for (`values`): a filter or a
 * body may hold personal data, and a log outlives the request.
 */
import type { StatementListener } from './database.js';

export type SqlLogMode = '0' | '1' | 'values';

/** What the SQL lines are written through: the request's logger when there is one, else the server's. */
export interface SqlLogger {
  info(fields: object, message: string): void;
}

/** The listener that writes one line per statement; `loggerNow` says whose logger is current. */
export function sqlLogListener(mode: Exclude<SqlLogMode, '0'>, loggerNow: () => SqlLogger): StatementListener {
  return {
    statement(text, values, durationMs) {
      const fields: Record<string, unknown> = { sql: oneLine(text), durationMs: Math.round(durationMs * 100) / 100 };
      if (values && values.length > 0) {
        if (mode === 'values') fields.values = values;
        else fields.valueCount = values.length;
      }
      loggerNow().info(fields, 'sql');
    },
  };
}

/** Statements are built over several lines for reading in code; a log line is read one per line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
