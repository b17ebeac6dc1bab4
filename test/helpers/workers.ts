/**
 * What the suites of `kiln serve --workers N` share: a request on a connection of its own (the
 * cluster hands each new connection to the next worker), the pids that logged requests, and a wait.
 */
import { request } from 'node:http';

/** GET on a connection of its own: the cluster hands each new connection to the next worker. */
export function getOnNewConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

/** The pids that logged a request for /readyz, from the JSON log lines on stdout. */
export function readyzPids(stdout: string): Set<number> {
  const pids = new Set<number>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid?: number; path?: string };
    if (entry.path === '/readyz' && typeof entry.pid === 'number') pids.add(entry.pid);
  }
  return pids;
}

/** Resolves once `check` holds, checking every 50 ms; throws naming `what` past the timeout. */
export async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > timeoutMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
