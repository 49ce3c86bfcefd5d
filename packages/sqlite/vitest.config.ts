import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@oncely/source'] },
  ssr: { resolve: { conditions: ['@oncely/source'] } },
  test: { name: 'sqlite', include: ['src/**/*.test.ts'] },
});
