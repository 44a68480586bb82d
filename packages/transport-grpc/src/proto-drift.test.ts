import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, 'node_modules', '.bin');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

// CI guard: the committed src/gen must be exactly what `pnpm proto` makes from proto/.
describe('proto/ and src/gen', () => {
  const temps: string[] = [];
  afterAll(async () => {
    await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
  });

  it('passes buf lint', async () => {
    const { stdout, stderr } = await run(join(bin, 'buf'), ['lint', '../../proto'], { cwd: pkg, env });
    expect(stdout + stderr).toBe('');
  });

  // The baseline is proto/ as released before the question messages (main at 77271d6), built with
  // `buf build <that proto dir> -o src/fixtures/proto-baseline.binpb`: field numbers and names stay.
  it('passes buf breaking against the released baseline', async () => {
    const { stdout, stderr } = await run(
      join(bin, 'buf'),
      ['breaking', '../../proto', '--against', 'src/fixtures/proto-baseline.binpb'],
      { cwd: pkg, env },
    );
    expect(stdout + stderr).toBe('');
  });

  it('has committed generated code identical to a fresh generation (run `pnpm proto` if not)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'forge-proto-'));
    temps.push(out);
    await run(join(bin, 'buf'), ['generate', '--output', out], { cwd: pkg, env });
    const fresh = join(out, 'src', 'gen');
    const committed = join(pkg, 'src', 'gen');
    const files = await listFiles(fresh);
    expect(files.length).toBeGreaterThan(0);
    expect(await listFiles(committed)).toEqual(files);
    for (const f of files) {
      const [a, b] = await Promise.all([readFile(join(committed, f), 'utf8'), readFile(join(fresh, f), 'utf8')]);
      expect(a, `${f} differs from a fresh generation; run \`pnpm proto\``).toBe(b);
    }
  });
});
