import { defineConfig } from 'vitest/config';

// On CI a JSON report is written too, so .ci/run can print one plain "N passed, N failed" line.
const ci = process.env.CI === 'true' || process.env.CI === '1';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts'],
    reporters: ci ? ['default', 'json'] : ['default'],
    ...(ci ? { outputFile: { json: 'node_modules/.cache/vitest-report.json' } } : {}),
  },
});
