import { StartupError } from '../config/startup-error.js';

/**
 * Parses the JSON of a file, or throws a StartupError that says where it breaks (line and column) and
 * what was found there. V8's messages do not always give the position, and quote the source when they
 * do not; the place is found instead as the shortest prefix that fails other than by ending early,
 * which is where a left-to-right parser stops.
 */
export function parseJsonFile(file: string, raw: string): unknown {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw; // a byte-order mark is not JSON, but editors write one
  if (text.trim() === '') throw new StartupError(`${file}: the file is empty; it must hold a JSON object`);
  try {
    return JSON.parse(text);
  } catch {
    const at = breakingPoint(text);
    const { line, column } = lineAndColumn(text, at);
    const found = at < text.length ? `unexpected ${JSON.stringify(text[at])}` : 'the file ends before the JSON is complete';
    throw new StartupError(`${file}: not valid JSON at line ${line}, column ${column}: ${found}; fix the file there`);
  }
}

/** The index of the first character a parser cannot accept, or the length when the text ends too soon. */
function breakingPoint(text: string): number {
  let low = 0;
  let high = text.length; // the whole text fails; find the shortest prefix that fails for a reason of its own
  if (endsEarly(text)) return text.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (failsInside(text.slice(0, mid + 1))) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** True when `prefix` is refused for a character in it, not merely for stopping short. */
function failsInside(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch {
    return !endsEarly(prefix);
  }
}

/**
 * True when JSON.parse refuses `text` only because it stops short: appending the rest of some valid
 * document would make it parse. Checked by the message's position (at the very end) or wording.
 */
function endsEarly(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (/Unexpected end of JSON input|Unterminated string/.test(message)) return true;
    const position = /position (\d+)/.exec(message)?.[1];
    return position !== undefined && Number(position) >= text.length;
  }
}

function lineAndColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}
