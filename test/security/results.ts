// Figures of a security test file, printed and written next to the chaos results for report.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { RESULTS_DIR } from '../chaos/verify.js';

export function recordSecurity(name: string, figures: Record<string, number>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}security-${name}.json`, `${JSON.stringify({ name, figures }, null, 2)}\n`);
  console.log(
    `[security] ${name}: ${Object.entries(figures)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`,
  );
}
