/**
 * A rate as people write it: `100/min`, `10/s`, `5000/h`, `20/15min` (20 per 15 minutes), or `off`.
 * The same grammar serves the KILN_RATE_LIMIT setting and the model's `rateLimit` option, so one
 * sentence of the docs describes both.
 */

export interface Rate {
  /** Calls (or cost units, docs/how-to/rate-limits.md) allowed per window. */
  readonly points: number;
  /** The window, in seconds. */
  readonly windowS: number;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, min: 60, h: 3600, day: 86400 };

/** What KILN_RATE_LIMIT and the model's `rateLimit` accept: `<calls>/<unit>`, `<calls>/<n><unit>`, or `off`. */
export const RATE_PATTERN = /^(off|[1-9][0-9]{0,8}\/([1-9][0-9]{0,4})?(s|min|h|day))$/;

/** The longest window a rate may have. */
export const MAX_WINDOW_S = 86400;

/** The rate `text` means, `null` for `off`, or undefined when it is not a rate (or its window is over a day). */
export function parseRate(text: string): Rate | null | undefined {
  const match = RATE_PATTERN.exec(text);
  if (!match) return undefined;
  if (match[1] === 'off') return null;
  const windowS = Number(match[2] ?? 1) * (UNIT_SECONDS[match[3] as string] as number);
  if (windowS > MAX_WINDOW_S) return undefined;
  // parseInt reads the calls, the digits before `/`.
  return Object.freeze({ points: Number.parseInt(text, 10), windowS });
}

/** `100 per 60 seconds`: a rate in the words of messages and docs. */
export function describeRate(rate: Rate): string {
  return `${rate.points} per ${rate.windowS === 1 ? 'second' : `${rate.windowS} seconds`}`;
}
