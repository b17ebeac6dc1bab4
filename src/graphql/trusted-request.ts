/**
 * Reads a GraphQL request that names a trusted document instead of carrying it: `documentId` (the
 * GraphQL over HTTP draft, in a POST body or a GET query string) or Apollo's
 * `extensions.persistedQuery.sha256Hash`. The named document's text becomes the request's `query`
 * and graphql-http's own parser checks the rest (method, media type, variables, operationName), so a
 * request by id is held to exactly what a request with the text is.
 */
import { parseRequestParams, type Request, type RequestParams, type Response } from 'graphql-http';
import { graphqlRefusal } from './limits.js';
import type { TrustedDocuments } from './trusted-documents.js';

export type TrustedRequestParser = (req: Request<unknown, unknown>) => Promise<RequestParams | Response | undefined>;

/**
 * The parser for the endpoint. Without `trustedOnly`, a request without an id is left to
 * graphql-http's parser; with it, its `query` must hash to a key of the manifest.
 */
export function trustedRequestParser(trusted: TrustedDocuments | undefined, trustedOnly: boolean): TrustedRequestParser {
  return async (req) => {
    const id = documentIdOf(req);
    if (id === undefined) return trustedOnly ? checkedPlainRequest(req, trusted) : undefined;
    const text = trusted?.textOf(id);
    if (text === undefined) {
      const known = trusted
        ? 'it is not in the manifest of trusted documents'
        : 'this server keeps no trusted documents (KILN_GRAPHQL_TRUSTED_DOCUMENTS is not set)';
      throw graphqlRefusal('KILN_GRAPHQL_DOCUMENT_UNKNOWN', `unknown document id "${id}": ${known}; send the document's \`query\` or an id from the manifest`);
    }
    return parseRequestParams(withQuery(req, text));
  };
}

async function checkedPlainRequest(req: Request<unknown, unknown>, trusted: TrustedDocuments | undefined): Promise<RequestParams | Response> {
  const params = await parseRequestParams(req);
  if ('query' in params && !trusted?.trusts(params.query))
    throw notTrusted('send `documentId` with the sha256 of a document of its manifest instead of `query`');
  return params;
}

/** The refusal of a document KILN_GRAPHQL_TRUSTED_ONLY does not trust; `how` tells the transport's way to name a trusted one. */
export function notTrusted(how: string) {
  return graphqlRefusal('KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED', `this server runs only trusted documents: ${how}`);
}

/** The document id a request sends, in either form; undefined when it sends none. */
function documentIdOf(req: Request<unknown, unknown>): string | undefined {
  const fields = req.method === 'GET' ? queryStringFields(req.url) : bodyFields(req.body);
  if (!fields) return undefined;
  const documentId = fields.documentId;
  if (documentId !== undefined) {
    if (typeof documentId !== 'string' || documentId === '') throw invalid('`documentId` must be a non-empty string');
    if (fields.query !== undefined) throw invalid('send either `documentId` or `query`, not both');
    return documentId;
  }
  // Apollo sends the hash beside the text once the server asked for it: the text then rules.
  if (fields.query !== undefined) return undefined;
  const hash = persistedQueryHash(fields.extensions);
  if (hash !== undefined && (typeof hash !== 'string' || hash === '')) throw invalid('`extensions.persistedQuery.sha256Hash` must be a non-empty string');
  return hash;
}

interface SentFields {
  readonly documentId?: unknown;
  readonly query?: unknown;
  readonly extensions?: unknown;
}

function bodyFields(body: Request<unknown, unknown>['body']): SentFields | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as SentFields) : undefined;
}

function queryStringFields(url: string): SentFields {
  const search = new URLSearchParams(url.split('?')[1] ?? '');
  let extensions: unknown;
  try {
    extensions = JSON.parse(search.get('extensions') ?? 'null') ?? undefined;
  } catch {
    // graphql-http's parser answers the unparsable query string itself.
    extensions = undefined;
  }
  return { documentId: search.get('documentId') ?? undefined, query: search.get('query') ?? undefined, extensions };
}

function persistedQueryHash(extensions: unknown): unknown {
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery;
  return typeof persisted === 'object' && persisted !== null ? (persisted as { sha256Hash?: unknown }).sha256Hash : undefined;
}

/** The request with the document's text as its `query`, and no id left for graphql-http to wonder at. */
function withQuery<Raw, Context>(req: Request<Raw, Context>, text: string): Request<Raw, Context> {
  if (req.method === 'GET') {
    const url = new URL(req.url, 'http://graphql.invalid');
    url.searchParams.delete('documentId');
    url.searchParams.set('query', text);
    return { ...req, url: `${url.pathname}${url.search}` };
  }
  const { documentId: _documentId, ...body } = req.body as Record<string, unknown>;
  return { ...req, body: { ...body, query: text } };
}

function invalid(message: string) {
  return graphqlRefusal('KILN_GRAPHQL_INVALID', message);
}
