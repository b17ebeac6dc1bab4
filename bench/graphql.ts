/**
 * The GraphQL read of the benchmark: the REST list-with-include page (`GET /v1/posts?authorId=…
 * &limit=20&include=author`) asked of /graphql as a client would ask it, a POST with the author as a
 * variable, selecting every field REST answers with, in REST's order. Its answer, turned into REST's
 * shape, must equal REST's bytes: both servers then did the same work for the client.
 */
import type { DatasetSize } from './dataset.js';

/** One request of a load: what autocannon sends. */
export interface BenchRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** A JSON body, sent with Content-Type: application/json. */
  readonly body?: string;
}

const USER_FIELDS = 'id email name roles verified disabled createdAt updatedAt';
const POST_FIELDS = 'id title slug body status authorId createdAt updatedAt';

export const LIST_QUERY =
  `query AuthorPosts($authorId: ID!) { posts(filter: { authorId: { eq: $authorId } }, limit: 20) ` +
  `{ items { ${POST_FIELDS} author { ${USER_FIELDS} } } page { limit hasMore nextCursor } } }`;

/** The GraphQL requests for the authors REST's list paths visit, in the same order (bench/reads.ts listPaths). */
export function graphqlListRequests(size: DatasetSize): () => BenchRequest {
  let i = 0;
  return () => {
    const authorId = String(1 + ((i++ * 37) % size.users));
    return { method: 'POST', path: '/graphql', body: JSON.stringify({ query: LIST_QUERY, variables: { authorId } }) };
  };
}

/** GraphQL writes ids as strings (the ID type); REST as the integers they are. */
const ID_KEYS = new Set(['id', 'authorId']);

/** The GraphQL answer in REST's shape (`{ data: [...], page }`), to compare with REST's bytes. */
export function asRestList(body: string): string {
  const answer = JSON.parse(body) as { data?: { posts?: { items: unknown[]; page: unknown } }; errors?: unknown };
  const posts = answer.data?.posts;
  if (!posts || answer.errors) return body;
  return JSON.stringify({ data: posts.items, page: posts.page }, (key, value) => (ID_KEYS.has(key) && typeof value === 'string' ? Number(value) : value));
}
