import { packageBuild } from '../../tsup.base.js';

export default packageBuild(
  {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    // The PGlite worker thread's script, loaded by path beside the module that starts it (pglite-worker-client.ts).
    'pglite-worker': 'src/pglite-worker.ts',
  },
  // `import.meta.url` in the CJS build: pglite-initdb.ts resolves PGlite from this package, pglite-worker-client.ts its worker.
  { shims: true },
);
