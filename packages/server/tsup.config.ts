import { defineConfig } from 'tsup';

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/express.ts',
    'src/fastify.ts',
    'src/hono.ts',
    'src/koa.ts',
    'src/fetch.ts',
    'src/node.ts',
    'src/testing.ts',
    'src/adapter-kit.ts',
    'src/otel.ts',
  ],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
