import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeProtoDrift } from '../../../scripts/proto-drift.js';

// CI guard: the committed src/gen must be exactly what `pnpm proto` makes from proto/.
describeProtoDrift('proto/ and src/gen', {
  packageDir: join(dirname(fileURLToPath(import.meta.url)), '..'),
  lintArgs: ['../../proto'],
  // The baseline is proto/ as released before the question messages (main at 77271d6), built with
  // `buf build <that proto dir> -o src/__fixtures__/proto-baseline.binpb`: field numbers and names stay.
  breakingAgainst: { image: 'src/__fixtures__/proto-baseline.binpb', why: 'field numbers and names stay' },
  regenerate: 'run `pnpm proto`',
});
