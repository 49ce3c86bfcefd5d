import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@oncely/source'] },
  ssr: { resolve: { conditions: ['@oncely/source'] } },
  test: { name: 'demo', include: ['src/**/*.test.ts'], testTimeout: 60_000 },
});
