import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { accessTableOf } from '../../src/access/access-table.js';
import type { Model } from '../../src/model/ir.js';
import { BLOG_SEED_PATH, blogModelWithRules } from '../helpers/blog.js';
import { BROWSER_TIMEOUT, launchChromium } from '../helpers/chromium.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const TIMEOUT = BROWSER_TIMEOUT;

/** The roles of a table row that reach `reach`, as the page lists them. */
function rolesReaching(model: Model, resource: string, operation: string, reach: string): string {
  const row = accessTableOf(model)?.rows.find((r) => r.resource === resource && r.operation === operation);
  assert.ok(row, `${resource}.${operation}`);
  return Object.keys(row.reach)
    .filter((role) => row.reach[role] === reach)
    .join(', ');
}

/** The Access part of an operation's rendered description, once expanded: its first paragraph, then its list items. */
async function accessOf(page: Page, operation: string): Promise<string[]> {
  const block = page.locator(`#${operation}`);
  await block.locator('.opblock-summary').click();
  const description = block.locator('.opblock-description .renderedMarkdown').first();
  await description.waitFor({ timeout: TIMEOUT });
  // Rendered, not Markdown source: a bold heading, then a list.
  assert.equal(await description.locator('p > strong').first().textContent(), 'Access');
  const head = (await description.locator('p').first().textContent()) ?? '';
  return [head, ...(await description.locator('ul').first().locator('li').allTextContents())];
}

// The page is the same on either backend; one is enough.
const backend = BACKENDS[0] ?? 'pglite';

describe(`/docs shows who may call each operation: the blog as shipped, in Chromium (${backend})`, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let model: Model;

  before(async () => {
    model = await blogModelWithRules();
    server = await startTestServer(model, backend, {}, BLOG_SEED_PATH);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const res = await page.goto(`${server.url}/docs`, { waitUntil: 'load', timeout: TIMEOUT });
    assert.equal(res?.status(), 200);
    await page.waitForSelector('.opblock-tag-section', { timeout: TIMEOUT });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('List posts: the rule, who reaches every post, who only the posts the rule matches', async () => {
    const rule = accessTableOf(model)?.rows.find((r) => r.resource === 'posts' && r.operation === 'list')?.rule;
    assert.ok(rule);
    assert.deepEqual(await accessOf(page, 'operations-posts-listPosts'), [
      `Access (rule ${rule}):`,
      `any post: ${rolesReaching(model, 'posts', 'list', 'all')}`,
      `only posts the rule matches: ${rolesReaching(model, 'posts', 'list', 'rows')}`,
    ]);
    await page.screenshot({ path: '/tmp/docs-access.png' });
  });

  test('Delete a tag: who is refused', async () => {
    const access = await accessOf(page, 'operations-tags-deleteTags');
    assert.equal(access.at(-1), `refused: ${rolesReaching(model, 'tags', 'delete', 'none')}`, access.join('\n'));
  });
});
