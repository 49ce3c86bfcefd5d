import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@oncely/source'] },
  ssr: { resolve: { conditions: ['@oncely/source'] } },
  test: { name: 'cli', include: ['src/**/*.test.ts'], testTimeout: 30_000 },
});
