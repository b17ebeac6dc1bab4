/** Calls /graphql of a test server as a client would: POST with JSON, the answer parsed. */
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.js';

export interface GraphqlAnswer {
  readonly status: number;
  readonly requestId: string | null;
  readonly body: { data?: any; errors: any[] };
}

export async function graphql(
  server: TestServer,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphqlAnswer> {
  const res = await server.fetch('/graphql', { method: 'POST', headers: { accept: 'application/json', ...headers }, json: { query, variables } });
  const text = await res.text();
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: JSON.parse(text) };
}

/** An answer without errors: its data. */
export async function data(server: TestServer, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<any> {
  const answer = await graphql(server, query, variables, headers);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
  return answer.body.data;
}
