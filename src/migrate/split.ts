/**
 * Splits a migration file into statements, so each runs (and fails) on its own and an error can
 * name the statement. A `;` ends a statement unless it sits in a string, a quoted name, a comment
 * or a dollar-quoted body (`DO $$ … $$`, function bodies).
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const statement = stripLeadingComments(sql.slice(start, end));
    if (statement !== '') out.push(statement);
    start = end + 1;
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] as string) && !/[\w$]/.test(sql[i - 2] ?? ' ');
      i = skipQuoted(sql, i, "'", escapes);
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', false);
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      const prev = sql[i - 1] ?? ' ';
      if (tag && !/[\w$]/.test(prev)) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? sql.length : end + tag[0].length;
      } else {
        i++;
      }
    } else if (c === ';') {
      push(i);
      i++;
    } else {
      i++;
    }
  }
  push(sql.length);
  return out;
}

function skipBlockComment(sql: string, from: number): number {
  // PostgreSQL block comments nest.
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return i;
}

function skipQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return i;
}

/** Drops comment lines and blank lines before the statement, so the text names the statement itself. */
function stripLeadingComments(chunk: string): string {
  const lines = chunk.split('\n');
  while (lines.length > 0 && /^\s*(--.*)?$/.test(lines[0] as string)) lines.shift();
  const text = lines.join('\n').trim();
  return isOnlyComments(text) ? '' : text;
}

function isOnlyComments(text: string): boolean {
  return (
    text
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/--[^\n]*/g, '')
      .trim() === ''
  );
}
