import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../args.js';
import type { DemoResult } from '../run-demo.js';

const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));

describe('pnpm demo --kill-client', () => {
  it('killed mid-run and restarted: without the journal payments are charged twice, with it none', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--conditions=@oncely/source',
        '--import',
        'tsx',
        cli,
        '--operations',
        '120',
        '--kill-client',
        '--json',
      ],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 120_000 },
    );
    const { killClient } = JSON.parse(stdout) as DemoResult;
    const { withoutJournal: off, withJournal: on } = killClient!;
    // Both apps were really killed (SIGKILL) part-way, with payments confirmed before and after.
    for (const run of [off, on]) {
      expect(run.killed).toBe(true);
      expect(run.confirmedBeforeKill).toBeGreaterThanOrEqual(40);
      expect(run.confirmedBeforeKill).toBeLessThan(120);
      expect(run.failedPayments).toBe(0);
    }
    // The restarted app without a journal paid again under new keys what the server had charged.
    expect(off.duplicateCharges).toBeGreaterThan(0);
    expect(off.handlerExecutions).toBe(120 + off.duplicateCharges);
    expect(off.moneyChargedTwiceCents).toBeGreaterThan(0);
    expect(off.pendingAtRestart).toBe(0);
    // With the journal it resumed what was pending under the original keys: each payment charged once.
    expect(on.pendingAtRestart).toBeGreaterThan(0);
    expect(on.resumed).toBe(on.pendingAtRestart);
    expect(on.duplicateCharges).toBe(0);
    expect(on.paymentsChargedTwice).toBe(0);
    expect(on.handlerExecutions).toBe(120);
  }, 120_000);

  it('is off unless asked for', () => {
    expect(parseDemoArgs([], {})).toMatchObject({ options: { operations: 300 } });
    expect(parseDemoArgs([], {})).not.toHaveProperty('options.killClient');
    expect(parseDemoArgs(['--kill-client'], {})).toMatchObject({ options: { killClient: true } });
  });
});
