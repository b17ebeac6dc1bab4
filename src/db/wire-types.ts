/**
 * How both drivers read PostgreSQL's text values, so PGlite and pg hand back equal rows: bigint,
 * numeric and date stay text (no precision or timezone is lost), and timestamptz becomes ISO 8601
 * text directly. Turning it into a Date first (the drivers' default) and back into text for JSON cost
 * two conversions per value: a 20-row page with authors carries 80 timestamps.
 */
const identity = (value: string): string => value;

/**
 * `2026-01-15 09:30:00.12+00` → `2026-01-15T09:30:00.120Z`. Sessions run in UTC (both drivers set
 * TimeZone), so the offset is `+00`; anything else (another offset, a year past 9999, BC) goes
 * through Date, and a value Date cannot read (`infinity`) stays as PostgreSQL wrote it.
 */
export function timestamptzToIso(text: string): string {
  const length = text.length;
  if (length >= 22 && length <= 29 && text.charCodeAt(10) === 32 && text.charCodeAt(length - 3) === 43 && text.endsWith('00')) {
    const fraction = length > 22 ? text.slice(19, length - 3) : '';
    if (fraction === '' || fraction.charCodeAt(0) === 46) {
      const millis = fraction === '' ? '.000' : fraction.length >= 4 ? fraction.slice(0, 4) : fraction.padEnd(4, '0');
      return `${text.slice(0, 10)}T${text.slice(11, 19)}${millis}Z`;
    }
  }
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** Text parsers by type OID: int8, numeric, date, timestamptz. */
export const TEXT_PARSERS: Readonly<Record<number, (value: string) => string>> = Object.freeze({
  20: identity,
  1700: identity,
  1082: identity,
  1184: timestamptzToIso,
});
