/**
 * An open-loop load: request i leaves at start + i / rate, whether or not earlier ones were answered,
 * and its latency runs from that scheduled time (a request that waited for a free connection on the
 * client counts that wait, so a stalled server cannot hide its stall by slowing the sender down).
 * The first `warmUpSeconds` are sent the same way and counted apart: in them the client opens its
 * connections (hundreds of handshakes at once, with requests queued on the client meanwhile), which
 * says how fast the machine opens connections, not how the server holds up under the load.
 *
 * Not autocannon: its `overallRate` gives each connection a budget per second, reset every second, so
 * a server that answers fast (as one shedding load does) gets the whole second's requests in a burst at
 * the top of each second and nothing after; that measures bursts, not a steady rate.
 */
import { Pool } from 'undici';

export interface OpenLoopResult {
  /** Requests sent after the warm-up (those the other figures count). */
  readonly sent: number;
  readonly byStatus: Record<number, number>;
  /** Latencies in milliseconds of the 2xx answers, from each request's scheduled time. */
  readonly acceptedLatencies: number[];
  /** Requests that got no answer: connection errors and timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  /** The warm-up's requests: what they got, counted apart (not in the figures above). */
  readonly warmUp: { readonly sent: number; readonly byStatus: Record<number, number>; readonly errors: number; readonly acceptedLatencies: number[] };
}

export interface OpenLoopOptions {
  readonly rate: number;
  /** Seconds sent at the rate before the measured ones, counted apart: the client opens its connections then. */
  readonly warmUpSeconds: number;
  readonly seconds: number;
  readonly connections: number;
  readonly timeoutMs: number;
}

/** How often the sender wakes to send what has come due. */
const TICK_MS = 1;

export async function offerOpenLoop(url: string, next: () => { method: string; path: string }, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(url, { connections: options.connections, pipelining: 1, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const measured = { byStatus: {} as Record<number, number>, acceptedLatencies: [] as number[], errors: 0, timeouts: 0 };
  const warmUp = { byStatus: {} as Record<number, number>, acceptedLatencies: [] as number[], errors: 0, timeouts: 0 };
  const warmUpTotal = Math.round(options.rate * options.warmUpSeconds);
  const total = warmUpTotal + Math.round(options.rate * options.seconds);
  const inFlight: Promise<void>[] = [];
  const start = performance.now();

  const send = async (scheduledAt: number, into: typeof measured) => {
    const { method, path } = next();
    try {
      const res = await pool.request({ method: method as 'GET', path, headers: { accept: 'application/json' } });
      await res.body.dump();
      into.byStatus[res.statusCode] = (into.byStatus[res.statusCode] ?? 0) + 1;
      if (res.statusCode >= 200 && res.statusCode < 300) into.acceptedLatencies.push(performance.now() - scheduledAt);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code.includes('TIMEOUT')) into.timeouts++;
      else into.errors++;
    }
  };

  let sent = 0;
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate));
      for (; sent < due; sent++) inFlight.push(send(start + (sent / options.rate) * 1000, sent < warmUpTotal ? warmUp : measured));
      if (sent >= total) {
        clearInterval(timer);
        done();
      }
    }, TICK_MS);
  });
  await Promise.all(inFlight);
  await pool.close();
  return {
    sent: sent - warmUpTotal,
    ...measured,
    warmUp: { sent: warmUpTotal, byStatus: warmUp.byStatus, errors: warmUp.errors + warmUp.timeouts, acceptedLatencies: warmUp.acceptedLatencies },
  };
}
