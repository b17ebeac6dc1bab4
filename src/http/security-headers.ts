import { createRequire } from 'node:module';

type Middleware = (req: unknown, res: HeaderSink, next: (error?: unknown) => void) => void;
interface HeaderSink {
  setHeader(name: string, value: string): void;
  removeHeader(name: string): void;
}

/**
 * Security headers of API responses: the set OWASP's REST Security Cheat Sheet gives for APIs. A JSON
 * answer is never a page to render or frame, so it says so (`default-src 'none'`, `frame-ancestors
 * 'none'`, `DENY`), is never sniffed as something else, and is sent over HTTPS once a browser has seen
 * it there. The headers helmet adds for HTML documents (opener and embedder policies, DNS prefetch,
 * download options…) govern pages, not JSON, and would only make every answer longer: they go on the
 * documentation page instead (documentHeaders). Added by the request gate (server.ts) to every
 * response, errors and health answers included.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
});

/**
 * helmet's default security headers, for the HTML documentation page and its assets. @fastify/helmet
 * builds a helmet instance on each request (parsing the Content-Security-Policy again every time);
 * with no per-request options or nonces the headers never change, so they are computed once here, by
 * helmet itself (the helmet @fastify/helmet depends on), and replayed.
 */
export function documentHeaders(): Readonly<Record<string, string>> {
  const fromPlugin = createRequire(createRequire(import.meta.url).resolve('@fastify/helmet'));
  const helmet = fromPlugin('helmet') as (options?: object) => Middleware;
  const set: [string, string][] = [];
  // helmet also removes X-Powered-By, which neither Node nor Fastify sets (a test checks it stays absent).
  helmet()({}, { setHeader: (name, value) => set.push([name, value]), removeHeader: () => {} }, (error) => {
    if (error) throw error;
  });
  return Object.freeze(Object.fromEntries(set.map(([name, value]) => [name.toLowerCase(), value])));
}

/**
 * The Content-Security-Policy of the pages Kiln serves (/docs, /graphiql): helmet's default, less
 * `upgrade-insecure-requests`, which would send a page's asset and API requests to https:// and break
 * it on a plain-HTTP host other than localhost (a container or LAN address). Scripts, styles and fonts
 * come from this server only; `connect-src 'self'` covers the API, /graphql and, under CSP Level 3, its
 * ws:// URL for subscriptions. The pages' editors set inline styles, and their fonts are data: URLs.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join(';');
