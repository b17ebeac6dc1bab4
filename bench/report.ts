import { cpus, totalmem } from 'node:os';
import type { LoadResult } from './load.js';

export interface Measurement extends LoadResult {
  /** CPU time of the server process per request, in microseconds. */
  readonly serverCpuUs: number;
  /** CPU time of all PostgreSQL processes per request (an upper bound on a shared machine). */
  readonly postgresCpuUs: number;
}

export interface ReadResult {
  readonly name: string;
  /** One of the paths requested, for the reader. */
  readonly example: string;
  readonly baseline: Measurement;
  readonly kiln: Measurement;
  /** Kiln's requests per second over the baseline's. */
  readonly ratio: number;
}

export function machine(postgres: string): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    postgres,
  };
}

const ms = (value: number) => value.toFixed(2);

/** The table printed at the end of a run. */
export function formatTable(reads: readonly ReadResult[]): string {
  const header = ['read', 'server', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'server µs/req', 'pg µs/req', 'kiln/baseline'];
  const cells = (m: Measurement) => [
    String(Math.round(m.requestsPerSec)),
    ms(m.p50),
    ms(m.p95),
    ms(m.p99),
    String(Math.round(m.serverCpuUs)),
    String(Math.round(m.postgresCpuUs)),
  ];
  const rows = reads.flatMap((r) => [
    [r.name, 'baseline', ...cells(r.baseline), ''],
    ['', 'kiln', ...cells(r.kiln), `${r.ratio.toFixed(2)}×`],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
