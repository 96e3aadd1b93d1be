#!/usr/bin/env node
// Checks a running demo (`npm start`) the way a visitor uses it: headless Chromium with the
// espeak-ng question as the fake microphone opens the page, presses Start, waits for the avatar's
// reply, and saves a screenshot. Usage: node scripts/demo-check.mjs [url] [screenshot.png]
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from '../test/support/chromium.mjs';
import { makeTestFixtures } from './fixtures.mjs';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/';
const shot = process.argv[3] ?? 'demo-check.png';
makeTestFixtures();
const browser = await puppeteer.launch({
  executablePath: chromiumPath,
  headless: true,
  args: chromiumArgs,
  defaultViewport: { width: 900, height: 900 },
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`page: ${m.text()}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.evaluate(() => {
    const el = document.querySelector('heygen-avatar');
    window.__events = [];
    for (const n of ['state', 'turn', 'reply', 'error', 'session-start']) {
      el.addEventListener(`heygen-avatar:${n}`, (e) => window.__events.push([n, e.detail]));
    }
    el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });
  });
  const start = await page.evaluateHandle(() => document.querySelector('heygen-avatar').shadowRoot.querySelector('[part~="start-button"]'));
  await start.click();
  await page.waitForFunction(() => window.__events.some(([n]) => n === 'reply'), { timeout: 60_000 });
  await new Promise((r) => setTimeout(r, 2500));
  await page.screenshot({ path: shot });
  const events = await page.evaluate(() => window.__events.filter(([n]) => n !== 'state'));
  for (const [name, detail] of events) console.log(`${name}: ${JSON.stringify(detail)}`);
  console.log(`screenshot: ${shot}`);
} finally {
  await browser.close();
}
