import { packageBuild } from '../../tsup.base.js';

export default packageBuild(
  { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  // `import.meta.url` in the CJS build: pglite-initdb.ts resolves PGlite from this package.
  { shims: true },
);
