import { cpus, totalmem } from 'node:os';
import type { LoadResult } from './load.js';

export interface Measurement extends LoadResult {
  /** CPU time of the server process per request, in microseconds. */
  readonly serverCpuUs: number;
  /** CPU time per request of the PostgreSQL backends serving this server's connections. */
  readonly postgresCpuUs: number;
}

export interface ReadResult {
  readonly name: string;
  /** One of the paths requested, for the reader. */
  readonly example: string;
  /** Labels of the server measured against and of the server measured. */
  readonly servers: readonly [string, string];
  readonly reference: Measurement;
  readonly subject: Measurement;
  /** The measured server's requests per second over the other's. */
  readonly ratio: number;
  /** The measured server's CPU per request (its own and PostgreSQL's) over the other's. */
  readonly costRatio: number;
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

/** CPU per request of `subject` (server and PostgreSQL together) over `reference`'s. */
export function costRatio(reference: Measurement, subject: Measurement): number {
  return (subject.serverCpuUs + subject.postgresCpuUs) / (reference.serverCpuUs + reference.postgresCpuUs);
}

const ms = (value: number) => value.toFixed(2);

/** The table printed at the end of a run; `ratio` is the second server's req/s over the first's. */
export function formatTable(reads: readonly ReadResult[]): string {
  const header = ['read', 'server', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'server µs/req', 'pg µs/req', 'ratio'];
  const cells = (m: Measurement) => [
    String(Math.round(m.requestsPerSec)),
    ms(m.p50),
    ms(m.p95),
    ms(m.p99),
    String(Math.round(m.serverCpuUs)),
    String(Math.round(m.postgresCpuUs)),
  ];
  const rows = reads.flatMap((r) => [
    [r.name, r.servers[0], ...cells(r.reference), ''],
    ['', r.servers[1], ...cells(r.subject), `${r.ratio.toFixed(2)}×`],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The target of issue 10: a list under a row rule costs at most 10% more than the same list without rules. */
export const ROW_RULE_TARGET = 1.1;

/** `reference → subject` CPU per request, server and PostgreSQL, in words. */
function cpuChange(result: ReadResult): string {
  const { reference, subject } = result;
  const change = (from: number, to: number) => `${Math.round(from)} → ${Math.round(to)} µs (${percent(to / from)})`;
  return `server ${change(reference.serverCpuUs, subject.serverCpuUs)}, PostgreSQL ${change(reference.postgresCpuUs, subject.postgresCpuUs)}; throughput ${result.ratio.toFixed(2)}×`;
}

function percent(ratio: number): string {
  return `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
}

/** What the row rule costs the list (Kiln under the rule against Kiln without rules), against the target. */
export function ruleCost(result: ReadResult, rule: string): string {
  const verdict = result.costRatio <= ROW_RULE_TARGET ? 'within' : 'above';
  return (
    `Under the row rule \`${rule}\`, the list costs ${percent(result.costRatio)} of CPU per request (server and PostgreSQL) ` +
    `against the same list without rules, ${verdict} the target of ${percent(ROW_RULE_TARGET)}: ${cpuChange(result)}.`
  );
}

/** What Kiln's rule costs over the same rule written by hand in the baseline's SQL. */
export function byHandCost(result: ReadResult): string {
  return `Against the same rule written by hand in the baseline's SQL, Kiln's list under the rule costs ${percent(result.costRatio)} of CPU per request: ${cpuChange(result)}.`;
}
