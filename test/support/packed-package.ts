// What the `package` test layer shares: the packed tarball (scripts/test.mjs packs once and passes it
// in HEYGEN_AVATAR_TARBALL), child processes it starts and always stops, and a page in Chromium that
// holds a conversation with <heygen-avatar> the way a visitor does.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { packPackage } from '../../scripts/examples.mjs';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

let packed: string | undefined;
/** The package as `npm pack` makes it from dist/ (packed here when the test runs alone). */
export function tarball(): string {
  return (packed ??= process.env.HEYGEN_AVATAR_TARBALL || packPackage());
}

const children = new Set<ChildProcess>();

/** Starts a process (stopped by `stopAll`), keeping what it prints in `output()`. */
export function start(command: string, args: string[], options: SpawnOptions = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let text = '';
  // Colour codes stripped: a tool that colours its output (vite bolds the port) when the run's
  // environment asks for colour (FORCE_COLOR) still matches a plain pattern.
  const keep = (d: Buffer) => (text += String(d).replace(/\x1b\[[0-9;]*m/g, ''));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    output: () => text,
    /** Resolves with the first match of `pattern` in the output; rejects if the process ends first. */
    async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = text.match(pattern);
        if (m) return m;
        assert.ok(child.exitCode === null, `${command} ${args.join(' ')} exited ${child.exitCode} before printing ${pattern}:\n${text}`);
        assert.ok(Date.now() < deadline, `${command} ${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Sends `signal` and resolves with the exit code. */
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await once(child, 'exit');
      }
      children.delete(child);
      return child.exitCode;
    },
  };
}

/** Ends every process `start` began that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }),
  );
  children.clear();
}

/** Debian's Chromium with the fake microphone, as every browser test here runs it. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

/**
 * Opens `url` and presses the element's Start button; the fake microphone then asks “what is the
 * weather like today”. Returns the page's own event log (an `<ol>` of lines it writes from the
 * element's events) once it shows the session and a line matching `reply`.
 */
export async function converse(page: Page, url: string, reply: RegExp): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('requestfailed', (req) => problems.push(`${req.url()}: ${req.failure()?.errorText}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => customElements.get('heygen-avatar') && document.querySelector('heygen-avatar')?.shadowRoot?.querySelector('[part~="start-button"]'));
  const log = () => page.$$eval('ol li', (items) => items.map((li) => li.textContent ?? ''));
  await page.evaluate(() => document.querySelector('heygen-avatar')!.shadowRoot!.querySelector<HTMLButtonElement>('[part~="start-button"]')!.click());
  await page
    .waitForFunction(
      (source, flags) => [...document.querySelectorAll('ol li')].some((li) => new RegExp(source, flags).test(li.textContent ?? '')),
      { timeout: 90_000 },
      reply.source,
      reply.flags,
    )
    .catch(async (err) => assert.fail(`no line like ${reply}: ${err.message}\nlog: ${(await log()).join(' | ')}\nproblems: ${problems.join(' | ')}`));
  return log();
}
