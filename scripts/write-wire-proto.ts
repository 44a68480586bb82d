import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WIRE_PROTOS, type WireProtoPackage, wireProto } from './wire-proto.js';

// Run by a package's `pnpm proto` (in its folder, before `buf generate`): writes the package's wire.proto
// from its namesakes in proto/. `proto-drift.test.ts` fails when the committed one differs.
const name = path.basename(process.cwd()) as WireProtoPackage;
const spec = WIRE_PROTOS[name];
if (!spec) throw new Error(`write-wire-proto: no wire.proto for packages/${name}`);
const text = await wireProto(spec, path.join('node_modules', '.bin', 'buf'), process.cwd());
await mkdir(path.dirname(spec.out), { recursive: true });
await writeFile(spec.out, text);
console.log(`${spec.out}: written from proto/${spec.source}`);
