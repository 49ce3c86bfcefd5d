import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@oncely/source'] },
  ssr: { resolve: { conditions: ['@oncely/source'] } },
  test: {
    name: 'integration',
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
  },
});
