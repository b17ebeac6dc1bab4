/**
 * Chromium for the suites that look at /docs as a person would: the Debian package (`apt-get
 * install -y chromium`, which .ci/run does) driven by playwright-core, headless, without a sandbox,
 * the GPU or any of the browser's own background traffic. Nothing is downloaded.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.KILN_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** How long a launch, a navigation or a wait for the page may take. */
export const BROWSER_TIMEOUT = 30_000;

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Chromium with `extraArgs` beside the common ones; fails with the fix when it is not installed. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is not installed at ${CHROMIUM}; install it with "apt-get install -y chromium" (.ci/run does) or set KILN_TEST_CHROMIUM`,
  );
  return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...extraArgs], timeout: BROWSER_TIMEOUT });
}
