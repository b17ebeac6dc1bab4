import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { documentHeaders, PAGE_CSP } from '../http/security-headers.js';

/** Swagger UI assets from the installed package: the page works offline and under a strict CSP. */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

function page(title: string): string {
  const safe = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${safe} — API reference</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;
}

// In its own file rather than inline, so the Content-Security-Policy needs no 'unsafe-inline' script.
// validatorUrl: null keeps the page from sending the document's URL to validator.swagger.io (the
// page loads nothing from another host); the base layout drops the top bar that loads other documents.
// With authentication, the Authorize button takes an access token or an API key for "Try it out".
// persistAuthorization stays off: a credential typed in lives only as long as the tab, and is never
// written to localStorage, where any script of the origin could read it. (The session cookie needs no
// button: the browser sends it by itself, and unsafe methods then need X-CSRF-Token, which the page
// does not send.)
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});`;

export function registerDocs(app: FastifyInstance, title: string, document: unknown): void {
  // The page and its assets are documents: they carry helmet's full set (the API's own set is for JSON).
  const headers = { ...documentHeaders(), 'content-security-policy': PAGE_CSP };
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = new Map<string, { body: Buffer | string; type: string }>();
  for (const [name, type] of Object.entries(ASSETS)) files.set(name, { body: readFileSync(join(dir, name)), type });
  files.set('init.js', { body: INIT, type: 'text/javascript; charset=utf-8' });
  const html = page(title);
  const json = JSON.stringify(document);

  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(json));
  app.get('/docs', async (_req, reply) => reply.headers(headers).type('text/html; charset=utf-8').send(html));
  app.get('/docs/assets/:file', async (req, reply) => {
    const file = files.get((req.params as { file: string }).file);
    if (!file) return reply.callNotFound();
    return reply.headers(headers).header('cache-control', 'public, max-age=86400').type(file.type).send(file.body);
  });
}
