import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeProtoDrift } from '../../../scripts/proto-drift.js';
import { WIRE_PROTOS } from '../../../scripts/wire-proto.js';

// CI guard: the committed src/gen must be exactly what `pnpm proto` makes from proto/.
describeProtoDrift('proto/ and src/gen', {
  packageDir: join(dirname(fileURLToPath(import.meta.url)), '..'),
  lintArgs: ['../../proto'],
  // The baseline is proto/ as released before the question messages (main at 77271d6), built with
  // `buf build <that proto dir> -o src/__fixtures__/proto-baseline.binpb`: field numbers and names stay.
  // The two wire.proto files it holds are generated from their namesakes now (gen/proto, not proto/).
  breakingAgainst: {
    image: 'src/__fixtures__/proto-baseline.binpb',
    why: 'field numbers and names stay',
    movedOut: ['forge/agent/wire', 'forge/dialhome/wire'],
  },
  wireProto: WIRE_PROTOS['transport-grpc'],
  regenerate: 'run `pnpm proto`',
});
