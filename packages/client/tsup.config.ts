import { defineConfig } from 'tsup';

const shared = {
  entry: ['src/index.ts', 'src/axios.ts'],
  dts: true,
  sourcemap: true,
  target: 'es2022',
} as const;

// p-retry (and its dependency is-network-error) ship ESM only: the ESM build imports them, the CJS
// build bundles them so `require('@oncely/client')` works on every supported Node version.
export default defineConfig([
  { ...shared, format: ['esm'] },
  { ...shared, format: ['cjs'], noExternal: ['p-retry', 'is-network-error'] },
]);
