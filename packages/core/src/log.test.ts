import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimitedLog, normalizeLogger, rateLimitedLog } from './log.js';

function recorder() {
  const lines: Array<[string, string]> = [];
  return {
    lines,
    logger: {
      warn: (line: string) => void lines.push(['warn', line]),
      error: (line: string) => void lines.push(['error', line]),
    },
  };
}

describe('createRateLimitedLog', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('prints the first line of a kind, then one summary per interval while the kind keeps firing', () => {
    const { lines, logger } = recorder();
    const log = createRateLimitedLog(logger, 60_000);
    log.report('warn', 'store-unavailable', 'first');
    for (let i = 1; i <= 50; i++) log.report('warn', 'store-unavailable', `repeat ${i}`);
    expect(lines).toEqual([['warn', 'first']]);

    vi.advanceTimersByTime(60_000);
    expect(lines).toEqual([
      ['warn', 'first'],
      [
        'warn',
        'oncely: 50 more "store-unavailable" lines in the last 60 s, not printed; the last one: repeat 50',
      ],
    ]);

    log.report('warn', 'store-unavailable', 'still down');
    vi.advanceTimersByTime(60_000);
    expect(lines.slice(2)).toEqual([
      [
        'warn',
        'oncely: 1 more "store-unavailable" line in the last 60 s, not printed; the last one: still down',
      ],
    ]);

    // A quiet interval closes the window: the next line is printed whole again.
    vi.advanceTimersByTime(60_000);
    log.report('warn', 'store-unavailable', 'down again');
    expect(lines.slice(3)).toEqual([['warn', 'down again']]);
  });

  it('limits each kind on its own, and a summary takes the highest level it held back', () => {
    const { lines, logger } = recorder();
    const log = createRateLimitedLog(logger, 1000);
    log.report('warn', 'takeover', 'takeover 1');
    log.report('warn', 'fenced', 'fenced 1');
    log.report('error', 'fenced', 'fenced 2');
    expect(lines).toEqual([
      ['warn', 'takeover 1'],
      ['warn', 'fenced 1'],
    ]);
    vi.advanceTimersByTime(1000);
    expect(lines[2]).toEqual([
      'error',
      'oncely: 1 more "fenced" line in the last 1 s, not printed; the last one: fenced 2',
    ]);
    expect(lines).toHaveLength(3);
  });

  it('survives a logger that throws', () => {
    const log = createRateLimitedLog({
      warn: () => {
        throw new Error('broken logger');
      },
      error: () => undefined,
    });
    expect(() => log.report('warn', 'kind', 'line')).not.toThrow();
  });

  it('shares one log per logger object', () => {
    const { logger } = recorder();
    expect(rateLimitedLog(logger)).toBe(rateLimitedLog(logger));
    expect(rateLimitedLog(recorder().logger)).not.toBe(rateLimitedLog(logger));
  });
});

describe('normalizeLogger', () => {
  it('defaults to console, silences with false, and names a bad value', () => {
    expect(normalizeLogger(undefined)).toBe(console);
    expect(normalizeLogger(false)).toBeUndefined();
    const pinoLike = { warn: () => undefined, error: () => undefined, info: () => undefined };
    expect(normalizeLogger(pinoLike)).toBe(pinoLike);
    expect(() => normalizeLogger({ warn: () => undefined })).toThrow(
      'Invalid option `logger`: expected an object with warn and error methods (console, pino), or false, got an object.',
    );
    expect(() => normalizeLogger(true)).toThrow(/Invalid option `logger`: .*, got true\./);
  });
});
