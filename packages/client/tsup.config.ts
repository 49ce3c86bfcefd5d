import { type Options, defineConfig } from 'tsup';

const shared: Options = {
  entry: {
    index: 'src/index.ts',
    axios: 'src/axios.ts',
    otel: 'src/otel.ts',
    'journal/index': 'src/journal/index.ts',
    // Node only (node:fs): its own entry, so browser bundles of the rest never see it.
    'journal/file': 'src/journal/file-journal.ts',
  },
  dts: true,
  sourcemap: true,
  target: 'es2022',
};

// p-retry (and its dependency is-network-error) ship ESM only: the ESM build imports them, the CJS
// build bundles them so `require('@oncely/client')` works on every supported Node version.
export default defineConfig([
  { ...shared, format: ['esm'] },
  { ...shared, format: ['cjs'], noExternal: ['p-retry', 'is-network-error'] },
]);
