/**
 * Go-style durations as cfssl configs use them (`43800h`, `8760h`, `90m`, `1h30m`, `1.5h`), plus the
 * `d` (24h) and `y` (365d) suffixes people keep reaching for and cfssl rejects.
 */
import { fail } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  y: 365 * 86_400_000,
};

/** Longer than the span from 1970 to 9999: no validity can be this long. */
const MAX_DURATION_MS = 8030 * 365 * 86_400_000;

/** Parse a duration into milliseconds; `where` names file and field for the error. Zero and negative are errors. */
export function parseDuration(text: string, where: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|y)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (s === '' || consumed !== s.length)
    throw fail('BAD_DURATION', `${where}: "${text}" is not a duration (use e.g. 8760h, 90m, 30d or 1y)`);
  // Past this no certificate can be valid (X.509 dates end at 9999-12-31); also keeps "1e400h" finite.
  if (!(total <= MAX_DURATION_MS))
    throw fail('BAD_DURATION', `${where}: "${text}" is longer than any certificate can be valid (dates end at 9999-12-31)`);
  if (total <= 0) throw fail('BAD_DURATION', `${where}: "${text}" must be longer than zero`);
  // Sub-millisecond values would round to a zero-length validity.
  if (total < 0.5) throw fail('BAD_DURATION', `${where}: "${text}" is shorter than a millisecond`);
  return Math.round(total);
}

/** Render milliseconds the way Go prints durations for whole hours/minutes, for messages and plans. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
