// Regenerates src/gen/ from the installed CLI (devDependency @openai/codex): `pnpm --filter @forge/codex gen:protocol`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateProtocolSubset } from '../src/test-support/protocol-subset.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, 'node_modules', '@openai', 'codex', 'bin', 'codex.js');
const files = generateProtocolSubset(bin, join(pkg, 'src', 'gen'));
console.log(`src/gen: ${files.length} files`);
