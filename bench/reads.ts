import type { DatasetSize } from './dataset.js';
import { asRestList, type BenchRequest, graphqlListRequests } from './graphql.js';

/**
 * The servers of a run: the hand-written baseline, Kiln on the open blog, Kiln on the blog with a row
 * rule (bench/models.ts), and a second Kiln on the open blog for GraphQL (so the REST and the GraphQL
 * reads each have a process, and its CPU, of their own).
 */
export type ServerName = 'baseline' | 'kiln' | 'kilnRule' | 'kilnGraphql' | 'kilnCached' | 'kilnWorkers';

export const SERVER_LABELS: Readonly<Record<ServerName, string>> = {
  baseline: 'baseline',
  kiln: 'kiln',
  kilnRule: 'kiln, row rule',
  kilnGraphql: 'kiln, GraphQL',
  kilnCached: 'kiln, cached',
  kilnWorkers: 'kiln, 2 workers',
};

export interface Read {
  /** Name for BENCH_READS. */
  readonly key: string;
  readonly name: string;
  /** The server measured against, then the one measured: their ratio is reported. */
  readonly servers: readonly [ServerName, ServerName];
  /** A generator of request paths cycling over the data set. */
  paths(size: DatasetSize): () => string;
  /** Sent with every request of the read (the bearer token of the authenticated reads). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The request whose answer from the first server the second's answer to `path` must equal, when
   * it is not the same request: a rule changes which rows come back, and a filter shows which.
   */
  readonly referencePath?: (path: string) => string;
  /**
   * What the second server is sent instead of GET `paths` (the GraphQL read), and its answer turned
   * into the first server's form for the check that both answer alike.
   */
  readonly subject?: { requests(size: DatasetSize): () => BenchRequest; asReference(body: string): string };
}

/** The requests of a read for one of its two servers (0: the first, 1: the second). */
export function requestsOf(read: Read, side: 0 | 1, size: DatasetSize): () => BenchRequest {
  if (side === 1 && read.subject) return read.subject.requests(size);
  const next = read.paths(size);
  return () => ({ method: 'GET', path: next() });
}

/** The account the bench's access token names (bench/access-token.ts). */
export const CALLER_ID = 1;

const byIdPaths = (size: DatasetSize) => {
  let i = 0;
  // A stride coprime with the number of posts visits every post once per cycle, in scattered order.
  return () => `/v1/posts/${1 + ((i++ * 7919) % size.posts)}`;
};

/** The posts a cached read cycles over: a hot set, as a cache serves (every post would be 20,000 entries, each read once per cycle). */
export const HOT_POSTS = 1000;

const hotByIdPaths = (size: DatasetSize) => {
  let i = 0;
  const hot = Math.min(HOT_POSTS, size.posts);
  return () => `/v1/posts/${1 + ((i++ * 7919) % hot)}`;
};

const listPaths = (size: DatasetSize) => {
  let i = 0;
  return () => `/v1/posts?authorId=${1 + ((i++ * 37) % size.users)}&limit=20&include=author`;
};

/**
 * The reads measured: one record by id, anonymous and with a bearer access token (every request
 * verifies it: the cost of authentication), and a page of one author's posts with the author
 * embedded; each against the hand-written baseline. Then the same page for a signed-in caller, on
 * Kiln without rules and on Kiln under the row rule `status == 'published' || authorId == auth.id`
 * (bench/models.ts): the cost of a row rule. Every author has drafts (a third of the posts), so the
 * rule changes the answer for every author but the caller. Last, that page under the rule against the
 * baseline applying the same rule in its SQL: what Kiln's rules cost over writing the rule by hand.
 */
export function reads(accessToken: string): readonly Read[] {
  const bearer = { authorization: `Bearer ${accessToken}` };
  return [
    { key: 'byId', name: 'GET /v1/posts/:id', servers: ['baseline', 'kiln'], paths: byIdPaths },
    { key: 'byIdAuth', name: 'GET /v1/posts/:id, Bearer JWT', servers: ['baseline', 'kiln'], paths: byIdPaths, headers: bearer },
    { key: 'list', name: 'GET /v1/posts?authorId=…&limit=20&include=author', servers: ['baseline', 'kiln'], paths: listPaths },
    {
      key: 'listRule',
      name: 'GET /v1/posts?authorId=…&limit=20&include=author, Bearer JWT: no rule / row rule',
      servers: ['kiln', 'kilnRule'],
      paths: listPaths,
      headers: bearer,
      // Under the rule, another author's page is their published posts: what the open server lists with that filter.
      referencePath: (path) => (path.includes(`authorId=${CALLER_ID}&`) ? path : `${path}&status=published`),
    },
    {
      key: 'listGraphql',
      name: 'the same page from GraphQL: REST / POST /graphql { posts(filter: { authorId }, limit: 20) { items { … author { … } } page } }',
      servers: ['kiln', 'kilnGraphql'],
      paths: listPaths,
      subject: { requests: graphqlListRequests, asReference: asRestList },
    },
    // The response cache (KILN_CACHE_TTL=60, in memory): the same reads on Kiln without and with it.
    { key: 'getCached', name: `GET /v1/posts/:id over ${HOT_POSTS} posts: uncached / cached`, servers: ['kiln', 'kilnCached'], paths: hotByIdPaths },
    { key: 'listCached', name: 'GET /v1/posts?authorId=…&limit=20&include=author: uncached / cached', servers: ['kiln', 'kilnCached'], paths: listPaths },
    {
      key: 'listWorkers',
      name: 'GET /v1/posts?authorId=…&limit=20&include=author: one process / --workers 2',
      servers: ['kiln', 'kilnWorkers'],
      paths: listPaths,
    },
    {
      key: 'listRuleByHand',
      name: 'GET /v1/posts?authorId=…&limit=20&include=author, Bearer JWT: row rule',
      servers: ['baseline', 'kilnRule'],
      paths: listPaths,
      headers: bearer,
    },
  ];
}

/** Both servers of each read must answer it as expected, with the same bytes, or the comparison means nothing. */
export async function assertSameAnswers(urls: Readonly<Partial<Record<ServerName, string>>>, size: DatasetSize, reads: readonly Read[]): Promise<void> {
  for (const read of reads) {
    const [reference, subject] = read.servers.map((name) => urls[name] as string) as [string, string];
    const next = read.paths(size);
    const nextSubject = requestsOf(read, 1, size);
    for (let i = 0; i < 10; i++) {
      const path = next();
      const expected = read.referencePath?.(path) ?? path;
      const request = nextSubject();
      const headers = { ...read.headers, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) };
      const [b, k] = await Promise.all([
        fetch(`${reference}${expected}`, { headers: read.headers ?? {} }),
        fetch(`${subject}${request.path}`, { method: request.method, headers, body: request.body }),
      ]);
      // Cursors are compared by what they are for (the next page), not by their bytes: Kiln binds a
      // signed-in caller's cursor to them, which the baseline's hand-written cursor does not.
      const withoutCursor = (body: string) => body.replace(/"nextCursor":"[^"]*"/, '"nextCursor":"…"');
      const asReference = read.subject?.asReference ?? ((body: string) => body);
      const [bodyB, bodyK] = [withoutCursor(await b.text()), withoutCursor(asReference(await k.text()))];
      if (b.status !== 200 || k.status !== 200 || bodyB !== bodyK) {
        let at = 0;
        while (at < bodyB.length && bodyB[at] === bodyK[at]) at++;
        const from = Math.max(0, at - 200);
        const [first, second] = read.servers.map((name) => SERVER_LABELS[name].padEnd(14));
        throw new Error(
          `${read.name}: the servers disagree on GET ${path}${expected === path ? '' : ` (expected as GET ${expected} on ${read.servers[0]})`} ` +
            `(statuses ${b.status}, ${k.status}; bodies differ at character ${at}):\n` +
            `  ${first} …${bodyB.slice(from, at + 200)}\n  ${second} …${bodyK.slice(from, at + 200)}`,
        );
      }
    }
  }
}
