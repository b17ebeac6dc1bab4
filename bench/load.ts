import autocannon from 'autocannon';
import type { BenchRequest } from './graphql.js';

export interface LoadOptions {
  readonly connections: number;
  /** Seconds. */
  readonly duration: number;
  /** Sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What one autocannon run saw. */
export interface Sample {
  readonly requests: number;
  readonly seconds: number;
  /** Every response time, in milliseconds. */
  readonly latencies: number[];
  readonly errors: number;
  readonly non2xx: number;
}

export interface LoadResult {
  readonly requestsPerSec: number;
  readonly requests: number;
  /** Latencies in milliseconds. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

/**
 * Drives `url` with autocannon; `nextRequest` gives each request, so the load spreads over many rows
 * instead of hitting one cached row.
 */
export function measure(url: string, nextRequest: () => BenchRequest, options: LoadOptions): Promise<Sample> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.duration,
        headers: { ...options.headers },
        requests: [
          {
            setupRequest: (request) => {
              const { method, path, body } = nextRequest();
              if (body === undefined) return { ...request, method, path };
              return { ...request, method, path, body, headers: { ...request.headers, 'content-type': 'application/json' } };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({ requests: result.requests.total, seconds: result.duration, latencies, errors: result.errors + result.timeouts, non2xx: result.non2xx });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, time: number) => {
      latencies.push(time);
    });
  });
}

/** Throughput over all samples, and percentiles over every response of every sample. */
export function summarize(samples: readonly Sample[]): LoadResult {
  const sorted = Float64Array.from(samples.flatMap((s) => s.latencies)).sort();
  const requests = samples.reduce((n, s) => n + s.requests, 0);
  const seconds = samples.reduce((n, s) => n + s.seconds, 0);
  return {
    requestsPerSec: requests / seconds,
    requests,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
