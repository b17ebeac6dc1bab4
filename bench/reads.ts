import type { DatasetSize } from './dataset.js';

export interface Read {
  /** Name for BENCH_READS. */
  readonly key: string;
  readonly name: string;
  /** A generator of request paths cycling over the data set. */
  paths(size: DatasetSize): () => string;
  /** Sent with every request of the read (the bearer token of the authenticated read). */
  readonly headers?: Readonly<Record<string, string>>;
}

const byIdPaths = (size: DatasetSize) => {
  let i = 0;
  // A stride coprime with the number of posts visits every post once per cycle, in scattered order.
  return () => `/v1/posts/${1 + ((i++ * 7919) % size.posts)}`;
};

const LIST: Read = {
  key: 'list',
  name: 'GET /v1/posts?authorId=…&limit=20&include=author',
  paths(size) {
    let i = 0;
    return () => `/v1/posts?authorId=${1 + ((i++ * 37) % size.users)}&limit=20&include=author`;
  },
};

/**
 * The reads measured: one record by id, anonymous and with a bearer access token (every request
 * verifies it: the cost of authentication), and a page of one author's posts with the author embedded.
 */
export function reads(accessToken: string): readonly Read[] {
  return [
    { key: 'byId', name: 'GET /v1/posts/:id', paths: byIdPaths },
    { key: 'byIdAuth', name: 'GET /v1/posts/:id, Bearer JWT', paths: byIdPaths, headers: { authorization: `Bearer ${accessToken}` } },
    LIST,
  ];
}

/** Both servers must answer the measured reads with the same bytes, or the comparison means nothing. */
export async function assertSameAnswers(baselineUrl: string, kilnUrl: string, size: DatasetSize, reads: readonly Read[]): Promise<void> {
  for (const read of reads) {
    const next = read.paths(size);
    for (let i = 0; i < 10; i++) {
      const path = next();
      const init = { headers: read.headers ?? {} };
      const [b, k] = await Promise.all([fetch(`${baselineUrl}${path}`, init), fetch(`${kilnUrl}${path}`, init)]);
      const [bodyB, bodyK] = await Promise.all([b.text(), k.text()]);
      if (b.status !== 200 || k.status !== 200 || bodyB !== bodyK) {
        let at = 0;
        while (at < bodyB.length && bodyB[at] === bodyK[at]) at++;
        const from = Math.max(0, at - 200);
        throw new Error(
          `the servers disagree on GET ${path} (statuses ${b.status}, ${k.status}; bodies differ at character ${at}):\n` +
            `  baseline …${bodyB.slice(from, at + 200)}\n  kiln     …${bodyK.slice(from, at + 200)}`,
        );
      }
    }
  }
}
