/**
 * GraphiQL at /graphiql in a real browser (headless Chromium, test/helpers/chromium.ts): the page
 * loads from this server alone, logs no error, and runs queries against /graphql on the blog. Then
 * the page's headers, and when it is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { resolveSettings } from '../../src/config/settings.js';
import { servesGraphiql } from '../../src/graphql/graphiql.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BROWSER_TIMEOUT, launchChromium } from '../helpers/chromium.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const TIMEOUT = BROWSER_TIMEOUT;

/** A page in the browser, with every request it made, every request that failed and every error it logged. */
interface Visit {
  readonly page: Page;
  readonly requests: string[];
  readonly failed: string[];
  readonly consoleErrors: string[];
}

async function visit(browser: Browser, url: string): Promise<Visit> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const visit: Visit = { page, requests: [], failed: [], consoleErrors: [] };
  page.on('request', (req) => visit.requests.push(`${req.method()} ${req.url()}`));
  page.on('requestfailed', (req) => visit.failed.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) visit.failed.push(`${res.url()}: ${res.status()}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') visit.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (error) => visit.consoleErrors.push(`page error: ${error.message}`));
  const res = await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT });
  assert.equal(res?.status(), 200);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: TIMEOUT });
  return visit;
}

/** Clicks the run button and waits for the result pane to hold an answer whose text matches `expected`. */
async function runAndRead(page: Page, expected: RegExp): Promise<unknown> {
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.graphiql-response .CodeMirror');
  let text = '';
  for (let i = 0; i < 200 && !expected.test(text); i++) {
    text = await result.evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
    if (!expected.test(text)) await new Promise((done) => setTimeout(done, 50));
  }
  assert.match(text, expected);
  return JSON.parse(text);
}

/** Puts `text` in the query editor, as typing it would (CodeMirror's own API: typing would auto-close the braces). */
async function setEditor(page: Page, text: string): Promise<void> {
  await page
    .locator('.graphiql-query-editor .CodeMirror')
    .first()
    .evaluate((el, value) => (el as unknown as { CodeMirror: { setValue(value: string): void } }).CodeMirror.setValue(value), text);
}

const FROM_URL = '{ posts(filter: { status: { eq: published } }, sort: [title_ASC], limit: 2) { items { title author { name } } } }';

for (const backend of BACKENDS) {
  describe(`GraphiQL at /graphiql in Chromium (${backend})`, () => {
    let server: TestServer;
    let browser: Browser;
    let ide: Visit;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
      browser = await launchChromium();
      ide = await visit(browser, `${server.url}/graphiql?query=${encodeURIComponent(FROM_URL)}`);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('runs the query given in the URL (?query=) and shows its answer', async () => {
      const { page } = ide;
      assert.equal(await page.title(), 'Blog API — GraphiQL');
      const answer = await runAndRead(page, /Can machines think/);
      assert.deepEqual(answer, {
        data: {
          posts: {
            items: [
              { title: 'Can machines think?', author: { name: 'Alan Turing' } },
              { title: 'Debugging, literally', author: { name: 'Grace Hopper' } },
            ],
          },
        },
      });
    });

    test('runs a query put in the editor, and the URL follows the editor', async () => {
      const { page } = ide;
      const query = '{ post(id: 3) { title status comments(limit: 1) { page { limit } } } }';
      await setEditor(page, query);
      const answer = await runAndRead(page, /The first compiler/);
      assert.deepEqual(answer, { data: { post: { title: 'The first compiler', status: 'published', comments: { page: { limit: 1 } } } } });
      assert.equal(new URL(page.url()).searchParams.get('query'), query);
    });

    test('runs a subscription over WebSocket and shows the events as they come', async () => {
      const { page } = ide;
      const sockets: string[] = [];
      page.on('websocket', (socket) => sockets.push(socket.url()));
      await setEditor(page, 'subscription { postEvents(types: [created]) { type record { title } } }');
      await page.locator('.graphiql-execute-button').click();
      // GraphiQL tells a subscription from the document it parses a moment after an edit: run before
      // that, the text goes over HTTP, which answers that subscriptions need the WebSocket. Run again then.
      // The event is published once the subscription is in place: create posts until one is seen.
      const result = page.locator('.graphiql-response .CodeMirror');
      let text = '';
      for (let i = 0; i < 50 && !/Streamed from GraphiQL/.test(text); i++) {
        if (sockets.length === 0 && text.includes('Subscriptions are not supported')) await page.locator('.graphiql-execute-button').click();
        if (sockets.length > 0) {
          const res = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Streamed from GraphiQL', body: 'b', authorId: 1 } });
          assert.equal(res.status, 201);
        }
        await new Promise((done) => setTimeout(done, 200));
        text = await result.evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
      }
      assert.deepEqual(sockets, [`ws://${new URL(server.url).host}/graphql`]);
      assert.deepEqual(JSON.parse(text), { data: { postEvents: { type: 'created', record: { title: 'Streamed from GraphiQL' } } } });
      // Stop the subscription (the run button stops a running one).
      await page.locator('.graphiql-execute-button').click();
    });

    test('the documentation explorer lists the root fields, read by introspection', async () => {
      const { page } = ide;
      await page.locator('button[aria-label="Show Documentation Explorer"]').click();
      await page.locator('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name', { hasText: 'Query' }).first().click();
      const fields = await page.locator('.graphiql-doc-explorer-field-name').allInnerTexts();
      for (const name of ['users', 'user', 'posts', 'post', 'comments', 'tags']) assert.ok(fields.includes(name), `fields: ${fields.join(' ')}`);
    });

    test('the page loads nothing from another host, no request fails and nothing is logged as an error', () => {
      const origin = new URL(server.url).origin;
      for (const asset of ['graphiql.css', 'page.css', 'react.js', 'react-dom.js', 'graphiql.js', 'init.js']) {
        assert.ok(ide.requests.includes(`GET ${origin}/graphiql/assets/${asset}`), `requests: ${ide.requests.join(' ')}`);
      }
      assert.ok(ide.requests.includes(`POST ${origin}/graphql`), `requests: ${ide.requests.join(' ')}`);
      const foreign = ide.requests.filter((line) => {
        const url = line.slice(line.indexOf(' ') + 1);
        return !url.startsWith('data:') && new URL(url).origin !== origin;
      });
      assert.deepEqual(foreign, []);
      assert.deepEqual(ide.failed, []);
      assert.deepEqual(ide.consoleErrors, []);
    });

    test('the page and its assets carry their own Content-Security-Policy; an unknown asset is 404', async () => {
      const res = await server.fetch('/graphiql');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /(^|;)script-src 'self'(;|$)/);
      assert.match(csp, /(^|;)connect-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-eval|upgrade-insecure-requests/);
      assert.doesNotMatch(await res.text(), /<script>|https?:\/\//, 'no inline script, no other host');
      const asset = await server.fetch('/graphiql/assets/graphiql.js');
      assert.equal(asset.status, 200);
      assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=86400');
      assert.equal(asset.headers.get('content-security-policy'), csp);
      const missing = await server.fetch('/graphiql/assets/nope.js');
      assert.equal(missing.status, 404);
      const { instance, ...body } = await missing.json();
      assert.equal(instance, missing.headers.get('x-request-id'));
      assert.deepEqual(body, {
        type: 'https://kiln.dev/errors/KILN_ROUTE_NOT_FOUND',
        title: 'Route not found',
        status: 404,
        detail: 'no route for GET /graphiql/assets/nope.js',
        code: 'KILN_ROUTE_NOT_FOUND',
      });
    });
  });
}

describe('when /graphiql is served', () => {
  const defaults = resolveSettings({});

  test('with GraphQL and the docs on, outside production; always under kiln dev', () => {
    assert.equal(servesGraphiql(defaults, false, { NODE_ENV: 'test' }), true);
    assert.equal(servesGraphiql(defaults, false, {}), true);
    assert.equal(servesGraphiql(defaults, false, { NODE_ENV: 'production' }), false);
    assert.equal(servesGraphiql(defaults, true, { NODE_ENV: 'production' }), true);
    assert.equal(servesGraphiql({ ...defaults, docs: false }, true, {}), false);
    assert.equal(servesGraphiql({ ...defaults, graphql: false }, true, {}), false);
  });

  test('KILN_DOCS=false: /graphiql is 404 while /graphql answers', async () => {
    const server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite', { docs: false });
    try {
      assert.equal((await server.fetch('/graphiql')).status, 404);
      assert.equal((await server.fetch('/graphiql/assets/graphiql.js')).status, 404);
      const res = await server.fetch('/graphql', { method: 'POST', json: { query: '{ __typename }' } });
      assert.deepEqual(await res.json(), { data: { __typename: 'Query' } });
    } finally {
      await server.close();
    }
  });
});
