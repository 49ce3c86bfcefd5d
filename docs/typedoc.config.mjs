// TypeDoc options of the API reference: Markdown in docs/api, committed with the docs. CI regenerates
// it (`pnpm docs:api`) and fails when the committed copy differs, so it stays true to the TSDoc.
import { join } from 'node:path';
import { entryPoints } from './typedoc-entry-points.mjs';

const docs = import.meta.dirname;

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'Oncely API reference',
  entryPoints: [...entryPoints.keys()],
  tsconfig: join(docs, 'tsconfig.api.json'),
  plugin: ['typedoc-plugin-markdown', join(docs, 'typedoc-entry-points.mjs')],
  out: join(docs, 'api'),
  outputFileStrategy: 'modules',
  disableSources: true,
  excludePrivate: true,
  excludeInternal: true,
  readme: 'none',
  validation: { notExported: false, invalidLink: true, notDocumented: false },
  treatWarningsAsErrors: false,
};
