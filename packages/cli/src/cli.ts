#!/usr/bin/env node
// oncely: inspect and purge idempotency records (see `oncely --help`).
import { runCli } from './run.js';

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  now: Date.now,
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(
      `oncely: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 70; // EX_SOFTWARE: a bug, not one of the documented outcomes
  },
);
