import { describeValue } from '@oncely/core';

/** Longest cause text written to a log line: a driver message, not a dump. */
const MAX_CAUSE_LENGTH = 300;

/**
 * What a store error says, for one log line: its message, the messages of its causes that add
 * something, and the innermost error code (`42P01`, `ECONNREFUSED`), e.g.
 * `PostgresStore claim failed: relation "idem" does not exist (code 42P01)`.
 */
export function describeCause(error: unknown): string {
  const messages: string[] = [];
  let code: string | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const message = messageOf(current);
    if (message !== '' && !messages.some((seen) => seen.includes(message))) messages.push(message);
    const found = (current as { code?: unknown }).code;
    if (typeof found === 'string' && found !== '') code = found;
    current = (current as { cause?: unknown }).cause;
  }
  let text = messages.join(': ') || 'unknown error';
  if (text.length > MAX_CAUSE_LENGTH) text = `${text.slice(0, MAX_CAUSE_LENGTH)}…`;
  return code === undefined || text.includes(code) ? text : `${text} (code ${code})`;
}

function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error !== 'object' || error === null) return describeValue(error);
  const { message } = error as { message?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  // Node's AggregateError for a refused dual-stack connect has no message of its own.
  const first = (error as { errors?: unknown }).errors;
  return Array.isArray(first) && first.length > 0 ? messageOf(first[0]) : '';
}
