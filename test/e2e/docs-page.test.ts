import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BROWSER_TIMEOUT, launchChromium } from '../helpers/chromium.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** Beside the common arguments (test/helpers/chromium.ts): a name that is not localhost, so the browser treats the plain-HTTP origin as it would a LAN address. */
const ARGS = ['--disable-quic', '--host-resolver-rules=MAP kiln-docs.test 127.0.0.1'];
const TIMEOUT = BROWSER_TIMEOUT;

/** The /docs page in a real browser: what it fetched, what it logged, and the page itself. */
interface Visit {
  readonly page: Page;
  readonly requests: string[];
  readonly consoleErrors: string[];
}

async function visit(browser: Browser, url: string): Promise<Visit> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  const res = await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT });
  assert.equal(res?.status(), 200);
  await page.waitForSelector('.opblock-tag-section', { timeout: TIMEOUT });
  return { page, requests, consoleErrors };
}

for (const backend of BACKENDS) {
  describe(`the /docs page in Chromium (${backend})`, () => {
    let server: TestServer;
    let browser: Browser;
    let docs: Visit;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
      browser = await launchChromium(ARGS);
      docs = await visit(browser, `${server.url}/docs`);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('Swagger UI renders the title, one section per resource and the probes, and every operation', async () => {
      const { page } = docs;
      assert.equal(await page.title(), 'Blog API — API reference');
      await page.waitForSelector('.info .title', { timeout: TIMEOUT });
      assert.match((await page.locator('.info .title').textContent()) ?? '', /^Blog API/);
      const tags = await page.locator('.opblock-tag-section h3').evaluateAll((els) => els.map((el) => el.getAttribute('data-tag')));
      assert.deepEqual(tags, ['users', 'posts', 'comments', 'tags', 'auth', 'health']);
      const summaries = await page.locator('.opblock-summary-description').allInnerTexts();
      // Seven operations per resource and its change stream, the two probes, the blog's custom route (POST /v1/posts/{id}/publish), and authentication's.
      const document = await (await server.fetch('/openapi.json')).json();
      const authOperations = Object.values<object>(document.paths)
        .flatMap((item) => Object.values(item))
        .filter((op) => op.tags?.[0] === 'auth').length;
      assert.ok(authOperations >= 10, `${authOperations} auth operations`);
      assert.equal(summaries.length, 4 * 8 + 2 + 1 + authOperations);
      const probes = ['Liveness: the process answers', 'Readiness: the database answers'];
      for (const summary of ['List posts', 'Create a post', 'Create many posts', 'Get a post', 'Delete a tag', 'Stream changes to posts', ...probes]) {
        assert.ok(summaries.includes(summary), `"${summary}" is on the page`);
      }
      const paths = await page.locator('.opblock-summary-path').allInnerTexts();
      assert.ok(
        paths.some((p) => p.replace(/\u200b/g, '') === '/v1/posts/{id}'),
        `paths: ${paths.join(' ')}`,
      );
      const operations = await page.locator('.opblock').evaluateAll((els) => els.map((el) => el.id));
      assert.ok(operations.includes('operations-posts-listPosts'), `operation ids: ${operations.join(' ')}`);
      assert.ok(operations.includes('operations-tags-createManyTags'));
      await page.screenshot({ path: '/tmp/docs.png', fullPage: false });
    });

    test('"Try it out" on List posts calls the API from the page and shows its answer', async () => {
      const { page } = docs;
      const block = page.locator('#operations-posts-listPosts');
      await block.locator('.opblock-summary').click();
      await block.locator('button.try-out__btn').click();
      await block.locator('button.execute').click();
      const status = block.locator('.live-responses-table .response .response-col_status').first();
      await status.waitFor({ timeout: TIMEOUT });
      assert.equal((await status.textContent())?.trim(), '200');
      const shown = await block.locator('.live-responses-table .highlight-code').first().textContent();
      assert.match(shown ?? '', /"title": "Notes on the Analytical Engine"/);
      assert.ok(docs.requests.includes(`${server.url}/v1/posts?sort=-createdAt&limit=20&count=false`), `requests: ${docs.requests.join(' ')}`);
    });

    test('"Try it out" fills a filter operator from its own parameter field', async () => {
      const block = docs.page.locator('#operations-posts-listPosts');
      await block.locator('tr[data-param-name="title[icontains]"] input').fill('ENGINE');
      await block.locator('button.execute').click();
      const filtered = (url: string) => /\/v1\/posts\?.*title(%5B|\[)icontains(%5D|\])=ENGINE/.test(url);
      for (let i = 0; i < 100 && !docs.requests.some(filtered); i++) await new Promise((done) => setTimeout(done, 50));
      assert.ok(docs.requests.some(filtered), `requests: ${docs.requests.join(' ')}`);
      // The answer replaces the unfiltered one shown before: only the post whose title has "engine" in any case.
      const shown = block.locator('.live-responses-table .highlight-code').first();
      let text = '';
      for (let i = 0; i < 100 && (text === '' || text.includes('On Computable Numbers')); i++) {
        text = (await shown.textContent()) ?? '';
        await new Promise((done) => setTimeout(done, 50));
      }
      assert.match(text, /"title": "Notes on the Analytical Engine"/);
      assert.doesNotMatch(text, /On Computable Numbers/);
    });

    test('Authorize takes an access token, and "Try it out" sends it', async () => {
      const { page } = docs;
      const login = await server.fetch('/v1/auth/login', { method: 'POST', json: { login: 'ada@example.com', password: 'kiln-demo-password' } });
      assert.equal(login.status, 200);
      const { accessToken } = (await login.json()).data;
      await page.locator('.auth-wrapper button.authorize').click();
      const bearer = page.locator('.modal-ux .auth-container').filter({ hasText: 'bearerAuth' });
      await bearer.locator('input').fill(accessToken);
      await bearer.locator('button.authorize').click();
      // One Close button per scheme in the dialog; any closes it.
      await page.locator('.modal-ux button.btn-done').first().click();
      const block = page.locator('#operations-auth-getAuthMe');
      await block.locator('.opblock-summary').click();
      await block.locator('button.try-out__btn').click();
      await block.locator('button.execute').click();
      const status = block.locator('.live-responses-table .response .response-col_status').first();
      await status.waitFor({ timeout: TIMEOUT });
      assert.equal((await status.textContent())?.trim(), '200');
      assert.match((await block.locator('.live-responses-table .highlight-code').first().textContent()) ?? '', /"email": "ada@example.com"/);
      // Kept for the tab only: nothing of it in the page's storage.
      const stored = await page.evaluate(() => {
        const storage = globalThis as unknown as { localStorage: object; sessionStorage: object };
        return JSON.stringify({ ...storage.localStorage }) + JSON.stringify({ ...storage.sessionStorage });
      });
      assert.doesNotMatch(stored, new RegExp(accessToken.slice(-20)));
    });

    test('the page loads nothing from another host and logs no error', () => {
      assert.ok(docs.requests.length >= 5, `requests: ${docs.requests.join(' ')}`);
      const foreign = docs.requests.filter((url) => !url.startsWith('data:') && new URL(url).host !== new URL(server.url).host);
      assert.deepEqual(foreign, []);
      assert.ok(docs.requests.includes(`${server.url}/openapi.json`));
      assert.deepEqual(docs.consoleErrors, []);
    });

    test('over plain HTTP on a host other than localhost the page loads its assets without upgrading to https', async () => {
      const origin = `http://kiln-docs.test:${new URL(server.url).port}`;
      const named = await visit(browser, `${origin}/docs`);
      try {
        assert.equal(await named.page.locator('.opblock-tag-section').count(), 6);
        assert.deepEqual(
          named.requests.filter((url) => !url.startsWith(`${origin}/`)),
          [],
        );
        // Chrome notes that it ignores Cross-Origin-Opener-Policy on an untrustworthy origin; nothing else may be logged.
        assert.deepEqual(
          named.consoleErrors.filter((text) => !text.startsWith('The Cross-Origin-Opener-Policy header has been ignored')),
          [],
        );
      } finally {
        await named.page.close();
      }
    });
  });
}
