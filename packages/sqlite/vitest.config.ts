import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@oncely/source'] },
  ssr: { resolve: { conditions: ['@oncely/source'] } },
  // globals: the @oncely/server/testing suites take describe/it/expect from there (or useTestRunner).
  test: { name: 'sqlite', globals: true, include: ['src/**/*.test.ts'] },
});
