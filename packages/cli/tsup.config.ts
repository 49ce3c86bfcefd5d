import { defineConfig } from 'tsup';

// A command, not a library: one ESM entry, its hashbang kept by tsup.
export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
