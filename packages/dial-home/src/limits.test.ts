import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { oversizedGrpcCall } from '@forge/transport-grpc/internal';
import { Rig } from './test-support/rig.js';

const RESOURCE_EXHAUSTED = 8;
const ENROLL = '/forge.dialhome.v1.AgentHubService/Enroll';
const ATTACH = '/forge.dialhome.v1.AgentHubService/Attach';

describe('hub message size limits', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('refuses an unauthenticated 256 MiB Enroll from its header, without reading it', async () => {
    rig = await new Rig().start();
    const answer = await oversizedGrpcCall(rig.server.url, ENROLL, 256 * 1024 * 1024);
    expect(answer.status).toBe(RESOURCE_EXHAUSTED);
    expect(answer.message).toMatch(/larger than configured readMaxBytes 65536/);
    // The hub still enrols agents.
    const d = rig.dial('after-the-attack', scriptedAgent({ steps: sampleScript() }));
    await d.whenOnline();
  });

  it('bounds what an enrolled agent may send on Attach (default 32 MiB, configurable)', async () => {
    rig = await new Rig({ readMaxBytes: 1024 * 1024 }).start();
    const d = rig.dial('big-talker', scriptedAgent({ steps: sampleScript() }));
    await d.whenOnline();
    const { credential } = JSON.parse(await readFile(join(rig.dir, 'big-talker.json'), 'utf8')) as {
      credential: string;
    };
    const answer = await oversizedGrpcCall(rig.server.url, ATTACH, 2 * 1024 * 1024, {
      authorization: `Bearer ${credential}`,
    });
    expect(answer.status).toBe(RESOURCE_EXHAUSTED);
    expect(answer.message).toMatch(/larger than configured readMaxBytes 1048576/);
  });
});
