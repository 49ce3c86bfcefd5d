/**
 * `pnpm bench` starts here. The bench imports the built packages (`dist`) statically, so they must be
 * built before its modules load — a fresh clone has no `dist` yet. So: answer `--help` and usage
 * errors (no build needed), build what is stale, and only then load the bench.
 */
import { USAGE, parseArgs } from './args.js';
import { ensureBuilt } from './ensure-built.js';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

let parsed;
try {
  parsed = parseArgs(process.argv.slice(2));
} catch (error) {
  log(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed === 'help') {
  log(USAGE);
  process.exit(0);
}
ensureBuilt(log);
await import('./cli.js');
