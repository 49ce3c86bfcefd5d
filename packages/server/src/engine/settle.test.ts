import { describe, expect, it } from 'vitest';
import { nextStep } from './settle.js';
import type { ExecutionFacts } from './settle.js';

const facts = (overrides: Partial<ExecutionFacts>): ExecutionFacts => ({
  response: 'ended',
  committed: true,
  status: 201,
  notReplayable: undefined,
  decision: undefined,
  handler: 'untracked',
  timedOut: false,
  transactional: false,
  replayServerErrors: false,
  ...overrides,
});

describe('the settlement rules', () => {
  it.each<[string, Partial<ExecutionFacts>, ReturnType<typeof nextStep>]>([
    ['a kept status ended', {}, 'complete'],
    ['a 5xx ended (the handler answered)', { status: 503 }, 'release'],
    ['a 429 ended', { status: 429 }, 'release'],
    ['a 5xx kept with replayServerErrors', { status: 500, replayServerErrors: true }, 'complete'],
    ['a timeout answered, handler end out of sight', { status: 503, timedOut: true }, 'hold'],
    [
      'a timeout answered, handler still running',
      { status: 503, timedOut: true, handler: 'running' },
      'wait',
    ],
    [
      'a timeout answered, handler then returned',
      { status: 503, timedOut: true, handler: 'returned' },
      'cut',
    ],
    ['a timeout answered, handler then threw', { status: 503, timedOut: true, handler: 'threw' }, 'cut'],
    ['closed after a kept status went out', { response: 'closed' }, 'cut'],
    ['closed before any answer, handler out of sight', { response: 'closed', committed: false }, 'hold'],
    [
      'closed before any answer, handler running',
      { response: 'closed', committed: false, handler: 'running' },
      'wait',
    ],
    [
      'closed before any answer, handler done',
      { response: 'closed', committed: false, handler: 'returned' },
      'release',
    ],
    ['closed after a 5xx head', { response: 'closed', status: 500, handler: 'threw' }, 'release'],
    ['an event stream began', { response: 'open', notReplayable: 'stream' }, 'complete'],
    ['an oversize body is under way', { response: 'open', notReplayable: 'oversize' }, 'complete'],
    [
      'an oversize body, transactional',
      { response: 'open', notReplayable: 'oversize', transactional: true },
      'wait',
    ],
    [
      'the handler threw before any answer',
      { response: 'open', committed: false, handler: 'threw' },
      'release',
    ],
    [
      'the handler returned, its answer still being written',
      { response: 'open', handler: 'returned' },
      'wait',
    ],
  ])('%s: %s', (_name, overrides, step) => {
    expect(nextStep(facts(overrides))).toBe(step);
  });
});
