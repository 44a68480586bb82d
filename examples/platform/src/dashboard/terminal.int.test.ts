import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startAttachHarness, type AttachHarness } from '../attach/test-support/attach-harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPING the terminal browser test: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

/** The dashboard's terminal panel in headless Chromium: xterm.js over the attach WebSocket (a ticket, a real PTY). */
describe.skipIf(!haveChromium)('dashboard terminal in headless Chromium', () => {
  let h: AttachHarness;
  let browser: Browser;
  const output = fileURLToPath(new URL('../../test-output/', import.meta.url));

  beforeAll(async () => {
    h = await startAttachHarness();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('opens a shell in the workspace from an agent: ls shows its files, and it resizes with the window', async () => {
    const agent = await h.newAgent();
    await writeFile(join(h.dataDir, 'alice', agent, 'workspace', 'made-by-the-agent.txt'), 'x');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${h.platform.url}/`);
    await page.fill('#api-key', ALICE);
    await page.click('#save-key');
    await page.locator('#key-state[data-state="ok"]').waitFor();
    await page.locator(`li.agent[data-agent-id="${agent}"] button.terminal`).click();
    await page.locator('#terminal-status[data-state="open"]').waitFor();

    const screen = page.locator('#terminal .xterm-rows');
    await page.keyboard.type('ls\n');
    await screen.getByText('made-by-the-agent.txt').waitFor();

    await page.keyboard.type('stty size\n');
    const sizeAt = async (n: number) => {
      await page.waitForFunction(
        (count) =>
          (document.querySelector('#terminal .xterm-rows')?.textContent?.match(/\d+ \d+/g) ?? []).length >= count,
        n,
      );
      return ((await screen.textContent()) ?? '').match(/\d+ \d+/g)![n - 1];
    };
    const wide = await sizeAt(1);
    await page.setViewportSize({ width: 700, height: 800 });
    await page.keyboard.type('clear; stty size\n');
    await page.waitForFunction((before) => {
      const t = document.querySelector('#terminal .xterm-rows')?.textContent ?? '';
      const m = t.match(/\d+ \d+/g);
      return m && m.length >= 1 && m.at(-1) !== before;
    }, wide);
    const narrow = ((await screen.textContent()) ?? '').match(/\d+ \d+/g)!.at(-1)!;
    expect(Number(narrow.split(' ')[1])).toBeLessThan(Number(wide!.split(' ')[1]));
    await page.screenshot({ path: join(output, 'dashboard-terminal.png'), fullPage: true });

    await page.keyboard.type('exit 3\n');
    await page.locator('#terminal-status[data-state="exited"]').waitFor();
    expect(await page.locator('#terminal-status').textContent()).toBe('exited with 3');
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
