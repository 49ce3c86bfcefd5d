/**
 * Parses an HTTP-date (RFC 9110 §5.6.7) in any of its three formats, to epoch ms, or `undefined`:
 * - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
 * - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
 * - obsolete asctime: `Sun Nov  6 08:49:37 1994`
 * Written by hand because `Date.parse` reads asctime as local time and accepts much that is not a date.
 */
export function parseHttpDate(value: string, now: number = Date.now()): number | undefined {
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) return toEpoch(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC_850.exec(text);
  if (m) return toEpoch(expandTwoDigitYear(Number(m[3]), now), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = ASCTIME.exec(text);
  if (m) return toEpoch(Number(m[6]), m[1]!, Number(m[2]), m[3]!, m[4]!, m[5]!);
  return undefined;
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function toEpoch(
  year: number,
  monthName: string,
  day: number,
  hh: string,
  mm: string,
  ss: string,
): number | undefined {
  const month = MONTHS.indexOf(monthName);
  const [h, min, s] = [Number(hh), Number(mm), Number(ss)];
  // RFC 9110 allows a leap second (60); Date folds it into the next minute, which is close enough.
  if (day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return undefined;
  const epoch = Date.UTC(year, month, day, h, min, s);
  // Reject dates that Date.UTC rolled over (31 Feb → 3 Mar).
  if (new Date(epoch).getUTCDate() !== day && s !== 60) return undefined;
  return epoch;
}

/** RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the most recent past one. */
function expandTwoDigitYear(yy: number, now: number): number {
  const currentYear = new Date(now).getUTCFullYear();
  let year = Math.floor(currentYear / 100) * 100 + yy;
  if (year > currentYear + 50) year -= 100;
  return year;
}
