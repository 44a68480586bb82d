import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { type WireProtoSpec, wireProto } from './wire-proto.js';

const run = promisify(execFile);

export interface ProtoDriftOptions {
  /** The package that generates the code: holds buf.gen.yaml, src/gen and buf in node_modules/.bin. */
  packageDir: string;
  /** Arguments of `buf lint`, run in `packageDir` (which .proto files are this package's). */
  lintArgs: string[];
  /**
   * A released image (`buf build … -o`) that `buf breaking` compares proto/ against, relative to `packageDir`;
   * `movedOut`: its paths that are no longer in proto/ (generated elsewhere now), left out of the comparison.
   */
  breakingAgainst?: { image: string; why: string; movedOut?: readonly string[] };
  /** The package's wire.proto, generated from its namesakes in proto/ (scripts/wire-proto.ts). */
  wireProto?: WireProtoSpec;
  /** Exactly the generated files expected in src/gen; default: whatever buf makes, at least one. */
  expectedFiles?: string[];
  /** How to regenerate, for the failure message. */
  regenerate: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

/**
 * The CI guard of a package that generates protobuf code: buf lint passes, buf breaking passes
 * against the released baseline (when there is one), and the committed src/gen is exactly what
 * `buf generate` makes from proto/ now. `pnpm proto:check` runs every package's copy.
 */
export function describeProtoDrift(name: string, options: ProtoDriftOptions): void {
  const pkg = options.packageDir;
  const bin = join(pkg, 'node_modules', '.bin');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  const buf = (args: string[]) => run(join(bin, 'buf'), args, { cwd: pkg, env });

  describe(name, () => {
    const temps: string[] = [];
    afterAll(async () => {
      await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
    });

    it('passes buf lint', async () => {
      const { stdout, stderr } = await buf(['lint', ...options.lintArgs]);
      expect(stdout + stderr).toBe('');
    });

    const breaking = options.breakingAgainst;
    if (breaking) {
      it(`passes buf breaking against the released baseline (${breaking.why})`, async () => {
        let against = breaking.image;
        if (breaking.movedOut?.length) {
          const out = await mkdtemp(join(tmpdir(), 'forge-proto-'));
          temps.push(out);
          against = join(out, 'baseline.binpb');
          const excluded = breaking.movedOut.flatMap((path) => ['--exclude-path', path]);
          await buf(['build', breaking.image, ...excluded, '-o', against]);
        }
        const { stdout, stderr } = await buf(['breaking', '../../proto', '--against', against]);
        expect(stdout + stderr).toBe('');
      });
    }

    const wire = options.wireProto;
    if (wire) {
      it(`has a committed ${wire.out} identical to one made from proto/${wire.source} now (${options.regenerate} if not)`, async () => {
        const [committed, fresh] = await Promise.all([
          readFile(join(pkg, wire.out), 'utf8'),
          wireProto(wire, join(bin, 'buf'), pkg),
        ]);
        expect(committed).toBe(fresh);
      });
    }

    it(`has committed generated code identical to a fresh generation (${options.regenerate} if not)`, async () => {
      const out = await mkdtemp(join(tmpdir(), 'forge-proto-'));
      temps.push(out);
      await buf(['generate', '--output', out]);
      const fresh = join(out, 'src', 'gen');
      const committed = join(pkg, 'src', 'gen');
      const files = await listFiles(fresh);
      if (options.expectedFiles) expect(files).toEqual(options.expectedFiles);
      else expect(files.length).toBeGreaterThan(0);
      expect(await listFiles(committed)).toEqual(files);
      for (const f of files) {
        const [a, b] = await Promise.all([readFile(join(committed, f), 'utf8'), readFile(join(fresh, f), 'utf8')]);
        expect(a, `${f} differs from a fresh generation; ${options.regenerate}`).toBe(b);
      }
    });
  });
}
