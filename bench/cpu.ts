import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_SEC = 100;

/** CPU seconds (user + system) a process has used so far; 0 where /proc is not available. */
export function processCpuSeconds(pid: number): number {
  try {
    // The command name is in parentheses and may hold spaces; the fields after it are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by a process and its children (a cluster primary and its workers, which
 * do the work); the parent's own counters leave out children that are still running.
 */
export function processTreeCpuSeconds(pid: number): number {
  let total = processCpuSeconds(pid);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return total;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) total += processCpuSeconds(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

/** CPU seconds used so far by each PostgreSQL process of the machine, by pid. */
export function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/stat`, 'utf8').includes('(postgres)')) out.set(Number(entry), processCpuSeconds(Number(entry)));
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

/**
 * CPU seconds PostgreSQL used between two snapshots, counting processes alive at both (the servers'
 * pooled connections are). With `only` (the backends serving one server, found by its application name), just
 * those: other clients of the same PostgreSQL, such as test suites run alongside, no longer count.
 * Without it, every long-lived client counts too, so on a shared machine the figure is an upper bound.
 */
export function postgresCpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>, only?: ReadonlySet<number>): number {
  let total = 0;
  for (const [pid, seconds] of after) {
    if (only && !only.has(pid)) continue;
    const start = before.get(pid);
    if (start !== undefined) total += seconds - start;
  }
  return total;
}

/** `url` with `application_name` set, so the server's connections can be told apart in pg_stat_activity. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}
