import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackages, type PackedPackage, packPackages, repoRoot } from './pack.js';

/*
 * Every package, as a user gets it: built, packed once with pnpm (as publishing would), installed with npm
 * from the tarballs into a project in the system temp directory (third-party dependencies come from the npm
 * registry), then used from an ESM and a CommonJS script and type-checked strictly as ESM and as CommonJS.
 *
 * New packages are covered by iterating packages/*: every entry point is imported (ESM and CJS) and
 * type-checked. What each one then does for real is in SCENARIO below — add a few lines for a new package.
 */

const run = promisify(execFile);
const repoManifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
// The TypeScript a user gets from `npm install typescript` now: 7 (tools/typescript-7). The declarations are
// emitted by the 5.9 the build uses; module resolution for ESM and CommonJS consumers is the same in both, and
// 7's `tsc -b` checks the two projects below in ~9 s of CPU where 5.9's took ~27 s (alone, 2026-12-07).
const typescriptVersion: string = JSON.parse(
  readFileSync(path.join(repoRoot, 'tools', 'typescript-7', 'node_modules', 'typescript', 'package.json'), 'utf8'),
).version;

/** `@forge/core/testing/conformance` is the vitest suite: it needs vitest (an optional peer) to load. */
const NEEDS_A_TEST_RUNNER = new Set(['@forge/core/testing/conformance']);

interface Installed extends PackedPackage {
  manifest: Record<string, any>;
  entryPoints: string[];
}

// One scenario, written once, run as ESM (load = import) and as CommonJS (load = require).
//
// PGlite's initdb (~5 s of CPU) runs once, in the ESM script: it is the same program from either build (a child
// process requiring PGlite's CommonJS entry, found by `createRequire(import.meta.url)`, which the CommonJS build's
// in-process PGlite load uses too). The ESM script hands the result over as @forge/store/testing's template file;
// the CommonJS script is given it in FORGE_PGLITE_TEMPLATE (waiting for it) and opens, unpacks and migrates its
// own database from it, through PGlite's CommonJS build.
const TEMPLATE = 'pglite-template.tar.gz';
const SCENARIO = String.raw`
const assert = (ok, message) => { if (!ok) throw new Error(message); };
const { packages } = JSON.parse(fs.readFileSync(path.join(__dirname_, 'packages.json'), 'utf8'));
const loaded = {};
for (const pkg of packages) {
  for (const spec of pkg.entryPoints) {
    if (NEEDS_A_TEST_RUNNER.includes(spec)) continue;
    const mod = await load(spec);
    assert(Object.keys(mod).length > 0, spec + ' exports nothing');
    loaded[spec] = mod;
  }
}
const has = (name) => packages.some((p) => p.name === name);
const versionOf = (name) => packages.find((p) => p.name === name).version;
const report = [];

const { createProviderRegistry } = loaded['@forge/core'];
const { scriptedAgent, collectRun } = loaded['@forge/core/testing'];
const steps = [{ type: 'text.delta', text: 'hello ' }, { type: 'message', text: 'hello from the tarball' }];
const registry = createProviderRegistry();
registry.register('scripted', () => scriptedAgent({ steps }));
const local = await collectRun((await registry.get('scripted')).execute({ prompt: 'hi' }));
assert(local.result.status === 'completed' && local.result.text.includes('tarball'), 'core: ' + JSON.stringify(local.result));
report.push('core: scripted run ' + local.result.status + ', ' + local.events.length + ' events');

if (has('@forge/claude-code')) {
  const agent = loaded['@forge/claude-code'].claudeCode({ bin: '/nonexistent/claude' });
  assert(agent.provider === 'claude-code', 'claude-code provider');
  const { result } = await collectRun(agent.execute({ prompt: 'hi' }));
  assert(result.status === 'failed' && result.error.code === 'PROCESS_SPAWN_FAILED', 'claude-code: ' + JSON.stringify(result.error));
  report.push('claude-code: missing binary -> ' + result.error.code);
}

if (has('@forge/codex')) {
  const agent = loaded['@forge/codex'].codex({ bin: '/nonexistent/codex' });
  assert(agent.provider === loaded['@forge/codex'].PROVIDER, 'codex provider');
  const { result } = await collectRun(agent.execute({ prompt: 'hi' }));
  assert(result.status === 'failed' && result.error.code === 'PROCESS_SPAWN_FAILED', 'codex: ' + JSON.stringify(result.error));
  report.push('codex: missing binary -> ' + result.error.code);
}

if (has('@forge/acp')) {
  const agent = loaded['@forge/acp'].acpAgent({ command: '/nonexistent/acp-agent', args: [] });
  assert(agent.provider === 'acp', 'acp provider ' + agent.provider);
  const { result } = await collectRun(agent.execute({ prompt: 'hi', cwd: __dirname_ }));
  assert(result.status === 'failed', 'acp: ' + JSON.stringify(result));
  await agent.close?.();
  report.push('acp: missing program -> ' + result.error.code);
}

if (has('@forge/opencode')) {
  const agent = loaded['@forge/opencode'].opencode({ baseUrl: 'http://127.0.0.1:9' });
  assert(agent.provider === loaded['@forge/opencode'].OPENCODE_PROVIDER, 'opencode provider');
  report.push('opencode: agent ' + agent.provider);
}

if (has('@forge/transport-grpc')) {
  const { serveAgent, grpcAgent, TRANSPORT_GRPC_VERSION } = loaded['@forge/transport-grpc'];
  assert(TRANSPORT_GRPC_VERSION === versionOf('@forge/transport-grpc'), 'TRANSPORT_GRPC_VERSION ' + TRANSPORT_GRPC_VERSION);
  const server = await serveAgent(scriptedAgent({ steps }), { port: 0, host: '127.0.0.1' });
  const remote = grpcAgent({ baseUrl: server.url });
  try {
    const { result } = await collectRun(remote.execute({ prompt: 'over grpc' }));
    assert(result.status === 'completed' && result.text.includes('tarball'), 'grpc: ' + JSON.stringify(result));
    report.push('transport-grpc: run over gRPC ' + result.status + ', version ' + TRANSPORT_GRPC_VERSION);
  } finally {
    await remote.close();
    await server.close({ graceful: false });
  }
}

if (has('@forge/dial-home')) {
  const { createAgentHub, dialHome, memoryCredentialStore, DIAL_HOME_VERSION } = loaded['@forge/dial-home'];
  assert(DIAL_HOME_VERSION === versionOf('@forge/dial-home'), 'DIAL_HOME_VERSION ' + DIAL_HOME_VERSION);
  const hubRegistry = createProviderRegistry();
  const hub = createAgentHub({ secret: 'x'.repeat(32), credentialStore: memoryCredentialStore(), registry: hubRegistry });
  const server = await hub.listen({ port: 0, host: '127.0.0.1' });
  const { token } = hub.issueEnrolmentToken({ name: 'tarball-agent' });
  const link = dialHome({
    url: server.url,
    enrolmentToken: token,
    credentialFile: path.join(__dirname_, 'agent-credential-' + FORMAT + '.json'),
    name: 'tarball-agent',
    agent: scriptedAgent({ steps }),
  });
  try {
    await link.whenOnline();
    const { result } = await collectRun((await hubRegistry.get('tarball-agent')).execute({ prompt: 'dialled' }));
    assert(result.status === 'completed', 'dial-home: ' + JSON.stringify(result));
    report.push('dial-home: run through a dialled-home agent ' + result.status + ', version ' + DIAL_HOME_VERSION);
  } finally {
    await link.stop();
    await hub.close();
  }
}

if (has('@forge/ai-sdk')) {
  // ai, its peer, comes from the registry: npm installs peers.
  const { toUIMessageStreamResponse } = loaded['@forge/ai-sdk'];
  const response = toUIMessageStreamResponse(scriptedAgent({ steps }).execute({ prompt: 'hi' }));
  const body = await response.text();
  const ok = response.headers.get('x-vercel-ai-ui-message-stream') === 'v1' && body.includes('"type":"finish"') && body.includes('tarball');
  assert(ok, 'ai-sdk: ' + body);
  report.push('ai-sdk: a run as a UI message stream, ' + body.split('\n\n').filter((f) => f.startsWith('data: ')).length + ' chunks');
}

if (has('@forge/k8s')) {
  const { createPodManager } = loaded['@forge/k8s'];
  const { startFakeExecServer } = loaded['@forge/k8s/testing'];
  const exec = await startFakeExecServer({ onExec: (s) => { s.stdout('from the pod\n'); s.exit(0); } });
  try {
    const pods = createPodManager({ kubeConfig: exec.kubeConfig(), template: { image: 'agent' } });
    const proc = await pods.execRunner({ userId: 'u', agentId: 'a' }).spawn('echo', ['hi'], { input: '' });
    let out = '';
    for await (const chunk of proc.stdout) out += Buffer.from(chunk).toString();
    const exit = await proc.exited;
    assert(out === 'from the pod\n' && exit.code === 0, 'k8s: ' + JSON.stringify({ out, exit }));
    report.push('k8s: exec through the fake API server, exit ' + exit.code);
  } finally {
    await exec.close();
  }
}
{
  const { openStore } = loaded['@forge/store'];
  const handed = process.env.FORGE_PGLITE_TEMPLATE;
  const store = await openStore({ memory: true });
  try {
    assert(store.migrated.length > 0, 'store: no migration ran');
    report.push('store: embedded PGlite ' + (handed ? 'unpacked from the handed initdb' : 'initdb') + ', migrated to version ' + store.migrated.at(-1));
  } finally {
    await store.close();
  }
  if (!handed) {
    // The CommonJS script's store starts from this initdb, handed over whole (renamed into place).
    const made = await loaded['@forge/store/testing'].pgliteTemplateFile();
    fs.copyFileSync(made, TEMPLATE + '.partial');
    fs.renameSync(TEMPLATE + '.partial', TEMPLATE);
  }
}
console.log(JSON.stringify(report));
`;

const ESM = `import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const __dirname_ = path.dirname(fileURLToPath(import.meta.url));
const FORMAT = 'esm';
const TEMPLATE = path.join(__dirname_, ${JSON.stringify(TEMPLATE)});
const NEEDS_A_TEST_RUNNER = ${JSON.stringify([...NEEDS_A_TEST_RUNNER])};
const load = (spec) => import(spec);
${SCENARIO}`;

const CJS = `const fs = require('node:fs');
const path = require('node:path');
const __dirname_ = __dirname;
const FORMAT = 'cjs';
const TEMPLATE = path.join(__dirname_, ${JSON.stringify(TEMPLATE)});
const NEEDS_A_TEST_RUNNER = ${JSON.stringify([...NEEDS_A_TEST_RUNNER])};
const load = async (spec) => require(spec);
(async () => {
${SCENARIO}
})().catch((error) => { console.error(error); process.exit(1); });`;

/** A strict TypeScript file that imports every entry point and uses the public API with its types. */
function typedUse(entryPoints: string[]): string {
  const imports = entryPoints
    .filter((spec) => !NEEDS_A_TEST_RUNNER.has(spec))
    .map((spec, i) => `import * as m${i} from '${spec}';`)
    .join('\n');
  const all = entryPoints.filter((spec) => !NEEDS_A_TEST_RUNNER.has(spec)).map((_, i) => `m${i}`);
  return `${imports}
import { createProviderRegistry, type AgentEvent, type AgentResult, type CodeAgent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';

export const modules: object[] = [${all.join(', ')}];
const registry = createProviderRegistry();
registry.register('scripted', (): CodeAgent => scriptedAgent({ steps: [{ type: 'message', text: 'typed' }] }));
export async function typed(): Promise<AgentResult> {
  const run = (await registry.get('scripted')).execute({ prompt: 'hi', timeoutMs: 1_000 });
  for await (const event of run) {
    const e: AgentEvent = event;
    if (e.type === 'text.delta') e.text.toUpperCase();
  }
  return run.result;
}
`;
}

/** The `module` (and `moduleResolution`) settings a consumer's strict type check is made with. */
const TSC_MODULES = ['nodenext', 'node16'];

/** The file paths an exports map points at. */
const leaves = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Object.values(value as Record<string, unknown>).flatMap(leaves);

let work: string;
let project: string;
let installed: Installed[];

function cleanEnv(): NodeJS.ProcessEnv {
  // pnpm/npm settings of the repository's own run (npm_config_*) must not leak into the outside project, nor the
  // test run's initialised PGlite database (FORGE_PGLITE_TEMPLATE): the installed store runs its own initdb.
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'FORGE_PGLITE_TEMPLATE'),
  );
}

// The cases run side by side (`concurrent`): each is a process of its own (node, tsc) reading the one installed
// project, so none waits for another; one after another they took 141 s of the file's time at load 14.
describe.concurrent('the packed packages, installed outside the repository', () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'forge-packages-'));
    buildPackages();
    const packed = packPackages(path.join(work, 'tarballs'));
    project = path.join(work, 'consumer');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        ...packed.map((p) => p.tarball),
        `typescript@${typescriptVersion}`,
        `@types/node@${repoManifest.devDependencies['@types/node']}`,
        // @forge/ai-sdk's types use the `ai` peer's, whose @ai-sdk/provider imports 'json-schema' types without
        // depending on them: every AI SDK user checking with skipLibCheck false installs them (vercel/ai#15874).
        '@types/json-schema@^7.0.15',
      ],
      { cwd: project, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 },
    );
    installed = packed.map((p) => {
      const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules', p.name, 'package.json'), 'utf8'));
      const entryPoints = Object.keys(manifest.exports)
        .filter((sub) => sub !== './package.json')
        .map((sub) => (sub === '.' ? p.name : `${p.name}${sub.slice(1)}`));
      return { ...p, manifest, entryPoints };
    });
    const packages = installed.map(({ name, version, entryPoints }) => ({ name, version, entryPoints }));
    writeFileSync(path.join(project, 'packages.json'), JSON.stringify({ packages }));
    writeFileSync(path.join(project, 'esm.mjs'), ESM);
    writeFileSync(path.join(project, 'cjs.cjs'), CJS);
    const allEntryPoints = installed.flatMap((p) => p.entryPoints);
    writeFileSync(path.join(project, 'typed-esm.mts'), typedUse(allEntryPoints));
    writeFileSync(path.join(project, 'typed-cjs.cts'), typedUse(allEntryPoints));
    for (const module of TSC_MODULES) {
      const compilerOptions = {
        noEmit: true,
        strict: true,
        skipLibCheck: false,
        module,
        moduleResolution: module,
        target: 'es2022',
        types: ['node'],
        tsBuildInfoFile: `tsc-${module}.tsbuildinfo`,
      };
      const tsconfig = { compilerOptions, files: ['typed-esm.mts', 'typed-cjs.cts'] };
      writeFileSync(path.join(project, `tsconfig.${module}.json`), JSON.stringify(tsconfig, null, 2));
    }
    const references = TSC_MODULES.map((module) => ({ path: `./tsconfig.${module}.json` }));
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ files: [], references }, null, 2));
  }, 900_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('publish what a user can install: no workspace: ranges, no source condition, MIT LICENSE and README inside', () => {
    expect(installed.length).toBeGreaterThan(0);
    for (const { name, manifest } of installed) {
      const dir = path.join(project, 'node_modules', name);
      expect(JSON.stringify(manifest), name).not.toMatch(/workspace:|@forge\/source/);
      expect(manifest.sideEffects, name).toBe(false);
      expect(readFileSync(path.join(dir, 'LICENSE'), 'utf8'), name).toMatch(/^MIT License/);
      expect(existsSync(path.join(dir, 'README.md')), name).toBe(true);
      for (const target of leaves(manifest.exports))
        expect(existsSync(path.join(dir, target)), `${name} ${target}`).toBe(true);
      // Forge's own packages depend on each other at exactly the version released with them.
      for (const [dep, range] of Object.entries<string>(manifest.dependencies ?? {}))
        if (dep.startsWith('@forge/'))
          expect(range, `${name} → ${dep}`).toBe(installed.find((p) => p.name === dep)?.version);
    }
  });

  it('run from an ESM script: every entry point imports, and each package does its job', async () => {
    const template = path.join(project, TEMPLATE);
    try {
      const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: project, env: cleanEnv(), timeout: 120_000 });
      const report: string[] = JSON.parse(stdout.trim().split('\n').at(-1)!);
      console.log(report.join('\n'));
      expect(report).toContain('core: scripted run completed, 3 events');
      expect(report).toContainEqual(expect.stringMatching(/^store: embedded PGlite initdb, migrated to version \d+$/));
      expect(report.length).toBeGreaterThanOrEqual(installed.length);
    } finally {
      // The CommonJS script waits for the template: tell it why there is none rather than let it time out.
      if (!existsSync(template)) writeFileSync(`${template}.failed`, 'the ESM script made no initialised database');
    }
  }, 180_000);

  it('run from a CommonJS script (require) the same way, its store unpacked from the ESM script’s initdb', async () => {
    const env = { ...cleanEnv(), FORGE_PGLITE_TEMPLATE: path.join(project, TEMPLATE) };
    const { stdout } = await run(process.execPath, ['cjs.cjs'], { cwd: project, env, timeout: 120_000 });
    const report: string[] = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(report).toContain('core: scripted run completed, 3 events');
    expect(report).toContainEqual(
      expect.stringMatching(/^store: embedded PGlite unpacked from the handed initdb, migrated to version \d+$/),
    );
    expect(report.length).toBeGreaterThanOrEqual(installed.length);
  }, 180_000);

  // Each module setting is a project checking both files: .mts is read as ESM, .cts as CommonJS. node16 is where a
  // CommonJS consumer hits TS1479 if a .d.cts imports an ESM-only package; nodenext (node20 and later) is what most
  // consumers use, and reads a CommonJS import of an ESM package differently (require(esm), `module.exports`).
  // One `tsc -b` builds both: build mode parses and binds each declaration file once for the two (its source-file
  // cache; binding depends on target and strictness, alike here), each project's own checker checks every file.
  // With TypeScript 5.9, two separate tsc runs took ~26 s of CPU, this one ~21 s (bench/README.md).
  it('type-check strictly (skipLibCheck false), module nodenext and node16, each as ESM and as CommonJS', async () => {
    const tsc = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '--build', 'tsconfig.json'], { cwd: project }).catch(
      (error) => error,
    );
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('');
  }, 300_000);
});
