/**
 * GraphiQL at /graphiql: the in-browser IDE for /graphql, from the installed graphiql, react and
 * react-dom packages (their UMD builds), so the page works offline and loads nothing from another host.
 * Like /docs (src/openapi/docs-page.ts), the page has its own Content-Security-Policy and its start-up
 * script in a file of its own, so no inline script is allowed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { documentHeaders, PAGE_CSP } from '../http/security-headers.js';
import { GRAPHQL_PATH } from './endpoint.js';

export const GRAPHIQL_PATH = '/graphiql';

const JS = 'text/javascript; charset=utf-8';

/** Each asset served, by its name under /graphiql/assets/: the package it comes from, and its file there. */
const ASSETS = {
  'react.js': { from: 'react', file: 'umd/react.production.min.js', type: JS },
  'react-dom.js': { from: 'react-dom', file: 'umd/react-dom.production.min.js', type: JS },
  'graphiql.js': { from: 'graphiql', file: 'graphiql.min.js', type: JS },
  'graphiql.css': { from: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
} as const;

function page(title: string): string {
  const safe = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${safe} — GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="${GRAPHIQL_PATH}/assets/graphiql.css">
  <link rel="stylesheet" href="${GRAPHIQL_PATH}/assets/page.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="${GRAPHIQL_PATH}/assets/react.js"></script>
  <script src="${GRAPHIQL_PATH}/assets/react-dom.js"></script>
  <script src="${GRAPHIQL_PATH}/assets/graphiql.js"></script>
  <script src="${GRAPHIQL_PATH}/assets/init.js"></script>
</body>
</html>`;
}

const PAGE_CSS = 'html, body, #graphiql { height: 100%; margin: 0; }\n';

// The editors start from the URL (`?query=…&variables=…&operationName=…`), and the URL follows the
// editors, so a query can be shared as a link. Subscriptions go over WebSocket to /graphql on this
// host (graphql-ws, bundled in graphiql). Headers typed in stay in the tab: shouldPersistHeaders is
// off, so no credential is written to localStorage, where any script of the origin could read it.
const INIT = `(function () {
  var params = new URLSearchParams(location.search);
  var wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: '${GRAPHQL_PATH}',
    subscriptionUrl: wsScheme + '//' + location.host + '${GRAPHQL_PATH}',
  });
  function remember(name) {
    return function (value) {
      if (value) params.set(name, value);
      else params.delete(name);
      var search = params.toString();
      history.replaceState(null, '', location.pathname + (search ? '?' + search : ''));
    };
  }
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      query: params.get('query') || undefined,
      variables: params.get('variables') || undefined,
      operationName: params.get('operationName') || undefined,
      onEditQuery: remember('query'),
      onEditVariables: remember('variables'),
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
`;

export function registerGraphiql(app: FastifyInstance, title: string): void {
  const headers = { ...documentHeaders(), 'content-security-policy': PAGE_CSP };
  const require = createRequire(import.meta.url);
  const files = new Map<string, { body: Buffer | string; type: string }>();
  for (const [name, { from, file, type }] of Object.entries(ASSETS)) {
    const dir = dirname(require.resolve(`${from}/package.json`));
    files.set(name, { body: readFileSync(join(dir, file)), type });
  }
  files.set('init.js', { body: INIT, type: JS });
  files.set('page.css', { body: PAGE_CSS, type: 'text/css; charset=utf-8' });
  const html = page(title);

  app.get(GRAPHIQL_PATH, async (_req, reply) => reply.headers(headers).type('text/html; charset=utf-8').send(html));
  app.get(`${GRAPHIQL_PATH}/assets/:file`, async (req, reply) => {
    const file = files.get((req.params as { file: string }).file);
    if (!file) return reply.callNotFound();
    return reply.headers(headers).header('cache-control', 'public, max-age=86400').type(file.type).send(file.body);
  });
}

/**
 * Whether /graphiql is served: with GraphQL and the docs on, and not in production (NODE_ENV=production)
 * unless under `kiln dev`. GraphiQL builds its editor from introspection, which production turns off by
 * default (KILN_GRAPHQL_INTROSPECTION=auto); an IDE for the schema is for development, like the SDL
 * from `kiln graphql`.
 */
export function servesGraphiql(settings: { readonly graphql: boolean; readonly docs: boolean }, dev: boolean, env = process.env): boolean {
  return settings.graphql && settings.docs && (dev || env.NODE_ENV !== 'production');
}
