import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeProtoDrift } from '../../../scripts/proto-drift.js';
import { WIRE_PROTOS } from '../../../scripts/wire-proto.js';

// CI guard: the committed src/gen must be exactly what `pnpm proto` makes from proto/forge/dialhome.
describeProtoDrift('proto/forge/dialhome and src/gen', {
  packageDir: join(dirname(fileURLToPath(import.meta.url)), '..'),
  lintArgs: ['../../proto', '--path', '../../proto/forge/dialhome'],
  // Only our own proto: forge.agent.v1 comes from @forge/transport-grpc.
  expectedFiles: ['forge/dialhome/v1/dialhome_pb.ts', 'forge/dialhome/wire/v1/wire_pb.ts'],
  wireProto: WIRE_PROTOS['dial-home'],
  regenerate: 'run `pnpm proto` in packages/dial-home',
});
