import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudeCode } from '@forge/claude-code';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { createProviderRegistry, type CodeAgent } from '@forge/core';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { OFFLINE_NOTE, offlineResponder } from '../offline-model.js';
import { scriptedDemoAgent } from '../providers/scripted-demo.js';
import { testConfig } from '../test-support/test-config.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'dashboard-key-0123456789';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `SKIPPING the dashboard browser test: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH, or install Debian's chromium package)`,
  );

/** The dashboard in real headless Chromium: create → send → events → approve a permission → answer a question → result. */
describe.skipIf(!haveChromium)('dashboard in headless Chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let scratch: string;
  // Screenshots stay where a person can look at them (gitignored).
  const output = fileURLToPath(new URL('../../test-output/', import.meta.url));
  let model: FakeAnthropicApi;
  let claude: CodeAgent;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-dashboard-test-'));
    await mkdir(output, { recursive: true });
    const registry = createProviderRegistry();
    registry.register('scripted', scriptedDemoAgent({ delayMs: 20 }));
    // The real Claude Code CLI against the demo's offline stand-in model, as `pnpm demo` runs it.
    model = await startFakeAnthropicApi(offlineResponder());
    claude = claudeCode({ bin: claudeBinPath(), env: { ...fakeAnthropicEnv(model.url), HOME: join(scratch, 'home') } });
    registry.register('claude-code', claude);
    const config = {
      ...testConfig(),
      port: 0,
      dataDir: scratch,
      apiKeys: parseApiKeyList(`alice:${KEY}`),
      defaultProvider: 'scripted',
    };
    platform = await startPlatform({ config, registry });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    await claude?.close?.();
    await model?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('creates an agent, streams a run, approves a permission, answers a question and shows the results', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${platform.url}/`);

    await page.fill('#api-key', KEY);
    await page.click('#save-key');
    await page.locator('#key-state[data-state="ok"]').waitFor();
    // The providers come from the server (GET /api/v1/providers), not from the page.
    await page.locator('#provider option[value="scripted"]').waitFor({ state: 'attached' });
    const offered = await page
      .locator('#provider option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered.sort()).toEqual(['', 'claude-code', 'scripted']);
    await page.selectOption('#provider', 'scripted');
    await page.click('#create-agent');
    const row = page.locator('li.agent.chosen');
    await row.locator('[data-state="ready"]').waitFor();
    const agentId = await row.getAttribute('data-agent-id');
    expect(agentId).toMatch(/^agt_/);

    await page.fill('#message', 'Please ask for permission to list the files');
    await page.click('#send');
    const permission = page.locator('.ev.permission');
    await permission.waitFor();
    expect(await permission.textContent()).toContain('Bash');
    expect(await page.locator('.ev.tool').first().textContent()).toContain('"command":"ls"');
    await permission.locator('button.approve').click();

    const result = page.locator('.ev.result');
    await result.waitFor();
    expect(await result.getAttribute('data-status')).toBe('completed');
    expect(await result.textContent()).toContain('You said: Please ask for permission');
    expect(await page.locator('.ev.tool', { hasText: 'permission allow' }).count()).toBe(1);
    expect(await page.locator('.ev.text').last().textContent()).toContain('You said:');
    await page.locator('#run-status[data-status="completed"]').waitFor();

    const shot = join(output, 'dashboard-run.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshots in ${output}`);
    expect(existsSync(shot)).toBe(true);

    // A second message continues the conversation: the page sends the first run's session id.
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/messages'));
    await page.fill('#message', 'And again');
    await page.click('#send');
    expect((await sent).postDataJSON()).toMatchObject({
      content: 'And again',
      session_id: expect.stringMatching(/^ses_/),
    });
    await page.locator('.ev.result[data-status="completed"]').waitFor();

    // The conversation survives a reload: read back from the runs endpoints, the user's own messages first.
    await page.reload();
    await page.locator(`li.agent[data-agent-id="${agentId}"]`).click();
    const turns = page.locator('#history li.turn');
    await turns.nth(1).waitFor();
    expect(await turns.locator('.user-msg').allTextContents()).toEqual([
      'Please ask for permission to list the files',
      'And again',
    ]);
    expect(await turns.locator('.badge').allTextContents()).toEqual(['completed', 'completed']);
    expect(await turns.nth(0).locator('.usage').textContent()).toMatch(/^\d+ in \/ \d+ out tokens$/);
    expect(await turns.nth(0).locator('.cost').textContent()).toBe('no cost reported');
    expect(await turns.nth(1).locator('.reply').textContent()).toBe('You said: And again');
    const session = await page.locator('#session').textContent();
    expect(session).toMatch(/^ses_/);
    expect(await turns.nth(1).locator('code.session').textContent()).toBe(session);
    expect(await page.locator(`li.agent[data-agent-id="${agentId}"] time.created`).textContent()).toMatch(/^created /);
    await page.screenshot({ path: join(output, 'dashboard-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(output, 'dashboard-390.png'), fullPage: true });
    // Usable at 390 px: nothing sticks out sideways, and the controls are still on screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const id of ['#message', '#send', '#create-agent']) {
      const box = (await page.locator(id).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // A question: its options are buttons; clicking one answers it and the run goes on.
    await page.fill('#message', 'Ask me a question');
    await page.click('#send');
    const question = page.locator('.ev.question');
    await question.waitFor();
    expect(await question.locator('.chip').textContent()).toBe('Colour');
    expect(await question.locator('button.option').allTextContents()).toEqual(['Blue', 'Red']);
    expect(await question.locator('input.custom').count()).toBe(1);
    await page.screenshot({ path: join(output, 'question.png'), fullPage: true });
    await question.locator('button.option[data-label="Blue"]').click();
    // Earlier turns' results stay in the conversation: wait for this turn's own answer to come back.
    await page.locator('.ev.tool', { hasText: '"answers":[["Blue"]]' }).waitFor();
    expect(await page.locator('.ev.tool', { hasText: '"answers":[["Blue"]]' }).count()).toBe(1);
    expect(await question.locator('.decided').textContent()).toContain('Blue');

    // Two questions, the second with several choices: toggles, then "Send answer".
    await page.fill('#message', 'Two questions for you');
    await page.click('#send');
    // The first turn's question stays in the conversation: this turn's is the form with a second question.
    const form = page.locator('.ev.question').filter({ has: page.locator('.q[data-index="1"]') });
    await form.waitFor();
    expect(await form.locator('input.custom').count()).toBe(0);
    await form.locator('.q[data-index="0"] button.option[data-label="Blue"]').click();
    await form.locator('.q[data-index="0"] button.option[data-label="Red"]').click();
    for (const size of ['S', 'L', 'M', 'M'])
      await form.locator(`.q[data-index="1"] button.option[data-label="${size}"]`).click();
    expect(await form.locator('button.option[aria-pressed="true"]').allTextContents()).toEqual(['Red', 'S', 'L']);
    await form.locator('button.send-answer').click();
    await page.locator('.ev.tool', { hasText: '"answers":[["Red"],["S","L"]]' }).waitFor();
    expect(await page.locator('.ev.tool', { hasText: '"answers":[["Red"],["S","L"]]' }).count()).toBe(1);

    // The key stays in this tab's sessionStorage, and is never put in a URL.
    expect(await page.evaluate(() => sessionStorage.getItem('forgeKey'))).toBe(KEY);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('interrupts a run, shows an agent deleted behind its back as gone, and a wrong key as refused', async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.url}/`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.fill('#api-key', 'not-the-key-at-all');
    await page.click('#save-key');
    await page.locator('#error', { hasText: 'not accepted' }).waitFor();
    // A wrong key is a state of its own: said at the top, nothing offered that cannot work.
    const keyState = page.locator('#key-state[data-state="refused"]');
    await keyState.waitFor();
    expect(await keyState.textContent()).toContain('Key refused');
    expect(await page.locator('#create-agent').isDisabled()).toBe(true);
    expect(await page.locator('#agents').textContent()).toContain('once the key is accepted');
    await page.screenshot({ path: join(output, 'wrong-key-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.fill('#api-key', KEY);
    await page.click('#save-key');
    await page.click('#create-agent');
    const chosen = page.locator('li.agent.chosen');
    await chosen.locator('[data-state="ready"]').waitFor();
    const agentId = (await chosen.getAttribute('data-agent-id'))!;
    // A run that waits until interrupted, stopped with the Interrupt button.
    await page.fill('#message', 'please wait');
    await page.click('#send');
    await page.locator('.ev.text', { hasText: 'Working' }).waitFor();
    await page.click('#interrupt');
    await page.locator('.ev.result[data-status="cancelled"]').waitFor();
    await fetch(`${platform.url}/api/v1/agents/${agentId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEY}` },
    });
    await page.click('#refresh-agents');
    await page.locator(`li.agent[data-agent-id="${agentId}"] [data-state="gone"]`).waitFor();
    await page.close();
  });

  it('shows Approve for the real Claude Code CLI asking to write, and a question it asks', async (t) => {
    const caps = await claude.capabilities();
    if (!caps.permissionReplies || !caps.questions)
      t.skip(
        'this claude-code adapter cannot answer permission requests and questions yet (branch claude-interactive)',
      );
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', KEY);
    await page.click('#save-key');
    await page.selectOption('#provider', 'claude-code');
    await page.click('#create-agent');
    await page.locator('li.agent.chosen [data-state="ready"]').waitFor();

    await page.fill('#message', 'Please write a note');
    await page.click('#send');
    const permission = page.locator('.ev.permission');
    await permission.waitFor({ timeout: 60_000 });
    expect(await permission.textContent()).toContain('Write');
    expect(await permission.textContent()).toContain(OFFLINE_NOTE);
    await permission.locator('button.approve').click();
    await page.locator('.ev.result[data-status="completed"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.ev.result').textContent()).toContain(`I wrote ${OFFLINE_NOTE}`);
    await page.screenshot({ path: join(output, 'claude-permission.png'), fullPage: true });

    await page.fill('#message', 'Ask me a question');
    await page.click('#send');
    const question = page.locator('.ev.question');
    await question.waitFor({ timeout: 60_000 });
    expect(await question.locator('button.option').allTextContents()).toEqual(['Blue', 'Red']);
    await question.locator('button.option[data-label="Red"]').click();
    await page.locator('.ev.result[data-status="completed"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.ev.result').textContent()).toContain('Red');
    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
