/**
 * The time of a refused sign-in does not tell whether the login exists: an unknown login costs one
 * argon2 verification (against a dummy hash of the same cost) like a wrong password does. Measured
 * with the default hashing costs, so hashing dominates, over interleaved requests, and compared by
 * median with a generous bound: a security property, not a speed target.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { accountsModel, login, PASSWORD, signup } from './accounts-helpers.js';

const ROUNDS = 15;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

for (const backend of BACKENDS) {
  describe(`sign-in timing (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      // Default argon2 costs (KILN_PASSWORD_MEMORY_KIB, KILN_PASSWORD_TIME_COST); limits out of the way.
      server = await startTestServer(accountsModel(), backend, { authRateLimitIp: 10000, authRateLimitAccount: 10000 });
      assert.equal((await signup(server, 'known@example.com', PASSWORD)).status, 202);
    });
    after(() => server.close());

    async function timed(email: string): Promise<number> {
      const start = performance.now();
      const res = await login(server, email, 'a wrong password');
      await res.text();
      assert.equal(res.status, 401);
      return performance.now() - start;
    }

    test('an unknown login and a wrong password take comparable time', async (t) => {
      // Warm up both paths (connections, caches).
      await timed('warm-up@example.com');
      await timed('known@example.com');
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        // Alternate which goes first, so a drift in load weighs on both alike.
        if (i % 2 === 0) {
          unknown.push(await timed(`nobody${i}@example.com`));
          wrong.push(await timed('known@example.com'));
        } else {
          wrong.push(await timed('known@example.com'));
          unknown.push(await timed(`nobody${i}@example.com`));
        }
      }
      const ratio = median(unknown) / median(wrong);
      t.diagnostic(`median unknown login ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms`);
      assert.ok(
        ratio > 0.5 && ratio < 2,
        `median unknown ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`,
      );
    });
  });
}
