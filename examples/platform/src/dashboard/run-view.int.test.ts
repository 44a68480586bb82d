import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProviderRegistry } from '@forge/core';
import { scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { createTwoFilesPatch } from 'diff';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { scriptedDemoAgent } from '../providers/scripted-demo.js';
import { testConfig } from '../test-support/test-config.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'run-view-key-0123456789';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `SKIPPING the run view browser test: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH, or install chromium)`,
  );

/** 200 changed files, one of them a 10,000-line rewrite, and a structured answer. */
/**
 * The unified diff of a file whose `lines` all changed, as jsdiff's `createTwoFilesPatch` writes it with no context
 * (one hunk: every old line, then every new one). Written out, because jsdiff's Myers diff of 10,000 lines that all
 * differ took 13-14 s of CPU in this process (60 s and more on a busy machine), which the test's timeouts counted.
 */
function everyLineChanged(path: string, before: string[], after: string[]): string {
  return [
    '===================================================================',
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -1,${before.length} +1,${after.length} @@`,
    ...before.map((l) => `-${l}`),
    ...after.map((l) => `+${l}`),
    '',
  ].join('\n');
}

function bulkSteps(): ScriptStep[] {
  const steps: ScriptStep[] = [{ type: 'session.started', sessionId: 'ses_bulk', model: 'scripted', tools: ['Edit'] }];
  const long = Array.from({ length: 10_000 }, (_, i) => `line ${i}`);
  const longer = Array.from({ length: 10_000 }, (_, i) => `line ${i} changed`);
  for (let i = 0; i < 200; i++) {
    const path = `src/file-${String(i).padStart(3, '0')}.ts`;
    const diff =
      i === 0
        ? everyLineChanged(path, long, longer)
        : createTwoFilesPatch(`a/${path}`, `b/${path}`, `const a = ${i};\n`, `const a = ${i + 1};\n`);
    steps.push({ type: 'file.changed', path, change: i % 50 === 7 ? 'added' : 'modified', diff });
  }
  return steps;
}

async function withKey(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('#api-key', KEY);
  await page.click('#save-key');
  await page.locator('#key-state[data-state="ok"]').waitFor();
}

async function createAgent(page: Page, provider: string): Promise<void> {
  await page.locator(`#provider option[value="${provider}"]`).waitFor({ state: 'attached' });
  await page.selectOption('#provider', provider);
  await page.click('#create-agent');
  await page.locator('li.agent.chosen [data-state="ready"]').waitFor();
}

/** The run view: changed files with their diffs, the plan as a checklist, subagent work under its tool call. */
describe.skipIf(!haveChromium)('dashboard run view in headless Chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let scratch: string;
  const output = fileURLToPath(new URL('../../test-output/', import.meta.url));

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-run-view-test-'));
    await mkdir(output, { recursive: true });
    const registry = createProviderRegistry();
    registry.register('scripted', scriptedDemoAgent({ delayMs: 10 }));
    registry.register(
      'bulk',
      scriptedAgent({
        provider: 'bulk',
        steps: bulkSteps,
        outcome: { text: 'Reviewed.', output: { verdict: 'approve', comments: [{ line: 3, text: 'nice' }] } },
      }),
    );
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
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('shows the plan, the diff of each changed file (collapsed) and the subagent nested under its tool call', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await withKey(page, platform.url);
    await createAgent(page, 'scripted');
    await page.fill('#message', 'Make a plan, ask a subagent, then edit the greeting');
    await page.click('#send');
    await page.locator('.ev.result[data-status="completed"]').waitFor();

    // The plan: one checklist, redrawn from each whole plan, now at its last state.
    expect(await page.locator('.ev.plan').count()).toBe(1);
    expect(
      await page
        .locator('.ev.plan li.plan-entry')
        .evaluateAll((li) => li.map((n) => (n as HTMLElement).dataset.status)),
    ).toEqual(['completed', 'completed', 'in_progress']);
    expect(await page.locator('.ev.plan li.plan-entry').allTextContents()).toEqual([
      '☑ Read the code',
      '☑ Change the greeting',
      '◐ Run the tests',
    ]);

    // The subagent's tool call and message sit under the Task call that started it, not in the conversation.
    const task = page.locator('.ev.tool[data-call-id="call_task_1"]');
    expect(await task.locator('.subagent .ev.tool').first().textContent()).toContain('Grep');
    expect(await task.locator('.subagent .ev.text').textContent()).toBe('One TODO, in src/app.ts.');
    expect(await page.locator('#events > .ev.tool', { hasText: /^tool call: Grep/ }).count()).toBe(0);

    // The changed file: collapsed, its diff drawn when opened, added and removed lines marked.
    const file = page.locator('.ev.files details.file[data-path="src/app.ts"]');
    expect(await file.getAttribute('data-change')).toBe('modified');
    expect(await file.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await file.locator('.diff .line').count()).toBe(0);
    expect(await file.locator('summary').textContent()).toBe('modified src/app.ts +2 −3');
    await file.locator('summary').click();
    // The lines are drawn by the `toggle` event, which the browser fires after the click returns.
    await file.locator('.diff .line.add').first().waitFor();
    expect(await file.locator('.diff .line.add').allTextContents()).toEqual([
      '+export function greet(name: string) {\n',
      "+  return 'hello ' + name;\n",
    ]);
    expect(await file.locator('.diff .line.del').count()).toBe(3);
    const addColour = await file
      .locator('.diff .line.add')
      .first()
      .evaluate((n) => getComputedStyle(n).backgroundColor);
    const delColour = await file
      .locator('.diff .line.del')
      .first()
      .evaluate((n) => getComputedStyle(n).backgroundColor);
    expect(addColour).not.toBe(delColour);
    await page.screenshot({ path: join(output, 'run-view-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(output, 'run-view-390.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('keeps 200 changed files and a 10,000-line diff cheap: one node per event, the diff drawn only when opened', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await withKey(page, platform.url);
    await createAgent(page, 'bulk');
    await page.fill('#message', 'Review everything');
    await page.click('#send');
    // Count what leaves the conversation while the run streams: a re-render per event would remove nodes.
    await page.locator('#events .user-msg').waitFor();
    await page.evaluate(() => {
      const seen = { removed: 0, added: 0 };
      (window as unknown as { seen: typeof seen }).seen = seen;
      new MutationObserver((records) => {
        for (const r of records) {
          seen.removed += r.removedNodes.length;
          seen.added += r.addedNodes.length;
        }
      }).observe(document.getElementById('events')!, { childList: true, subtree: true });
    });
    await page.locator('.ev.result[data-status="completed"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.ev.files details.file').count()).toBe(200);
    expect(await page.locator('.ev.files h3 .count').textContent()).toBe('(200)');
    // Nothing but the count's text and each summary's first contents were replaced; no diff line was drawn.
    const seen = await page.evaluate(() => (window as unknown as { seen: { removed: number } }).seen);
    expect(seen.removed).toBeLessThanOrEqual(200);
    expect(await page.locator('.diff .line').count()).toBe(0);
    const big = page.locator('details.file[data-path="src/file-000.ts"]');
    expect(await big.locator('summary').textContent()).toBe('modified src/file-000.ts +10000 −10000');
    await big.locator('summary').click();
    await big.locator('.diff .line').first().waitFor();
    expect(await big.locator('.diff .line').count()).toBeGreaterThan(20_000);
    expect(await page.locator('details.file[data-change="added"]').count()).toBe(4);
    // The structured answer, as formatted JSON.
    const answer = page.locator('#events pre.ev.output');
    expect(JSON.parse((await answer.textContent())!)).toEqual({
      verdict: 'approve',
      comments: [{ line: 3, text: 'nice' }],
    });
    expect(await answer.textContent()).toContain('\n  "verdict": "approve"');
    await page.screenshot({ path: join(output, 'run-view-200-files.png') });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('brings back Approve after a reload, and sends images as attachments with thumbnails', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await withKey(page, platform.url);
    await createAgent(page, 'scripted');
    const agentId = await page.locator('li.agent.chosen').getAttribute('data-agent-id');

    // A 1×1 PNG, sent with the message: its thumbnail sits in the user's bubble, its bytes in the request.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
      'base64',
    );
    await page.setInputFiles('#images', { name: 'dot.png', mimeType: 'image/png', buffer: png });
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/messages'));
    await page.fill('#message', 'Please ask for permission first');
    await page.click('#send');
    expect((await sent).postDataJSON().attachments).toEqual([
      { kind: 'image', mime_type: 'image/png', name: 'dot.png', data: png.toString('base64') },
    ]);
    expect(await page.locator('#events .user-msg img.thumb').getAttribute('alt')).toBe('dot.png');
    await page.locator('.ev.permission button.approve').waitFor();

    // The run waits for a decision; the page reloads. Choosing the agent follows the run again, Approve included.
    await page.reload();
    await page.locator('#key-state[data-state="ok"]').waitFor();
    await page.locator(`li.agent[data-agent-id="${agentId}"]`).click();
    const approve = page.locator('.ev.permission button.approve');
    await approve.waitFor();
    expect(await approve.isDisabled()).toBe(false);
    await approve.click();
    await page.locator('.ev.result[data-status="completed"]').waitFor();
    // What this key spent today, from GET /api/v1/spend (this key has no daily cap).
    expect(await page.locator('#spend').textContent()).toMatch(
      /^Spent today: \$\d+\.\d{4} · \d+ tokens \(no daily cap\)$/,
    );
    // Who decided it, as the run's own event says.
    await page.locator('.ev.permission .resolved[data-by="host"]').waitFor();
    expect(await page.locator('.ev.permission .resolved').textContent()).toBe(' allow by host');
    expect(problems).toEqual([]);
    await page.close();
  });
});
