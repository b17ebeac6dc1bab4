/**
 * `npm run bench:overload`: Kiln offered twice what it can serve, on loopback, bounded in time. First
 * the capacity: the list read of bench/reads.ts at full speed from BENCH_CONNECTIONS connections.
 * Then the same read sent at twice that rate (open loop, bench/open-loop.ts: requests leave evenly on
 * schedule whether or not earlier ones were answered): BENCH_OVERLOAD_WARMUP seconds (default 2), in
 * which the client opens its connections, counted apart, then BENCH_DURATION seconds measured. What Kiln must do: answer every request
 * (nothing lost: no connection error, no timeout), with no 5xx other than 503 from load shedding,
 * and keep the requests it accepts fast (p95 under 200 ms) by refusing the rest quickly.
 * Prints the figures and writes bench/overload-results.json. Settings as bench/run.ts (BENCH_DURATION,
 * BENCH_CONNECTIONS, KILN_DB_POOL_MAX, BENCH_DATABASE_URL), and BENCH_OFFERED (default 2: the
 * multiple of the capacity offered).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BENCH_AUTH_ENV } from './access-token.js';
import { startServer } from './child.js';
import { createDataset } from './dataset.js';
import { measure, summarize } from './load.js';
import { benchModel } from './models.js';
import { offerOpenLoop } from './open-loop.js';
import { reads, requestsOf } from './reads.js';
import { machine } from './report.js';

const here = import.meta.dirname;
const env = process.env;
const duration = Number(env.BENCH_DURATION ?? 10);
const connections = Number(env.BENCH_CONNECTIONS ?? 50);
const offeredMultiple = Number(env.BENCH_OFFERED ?? 2);
const databaseUrl = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Connections of the open-loop phase: enough that a slow answer never holds back the schedule. */
const OPEN_LOOP_CONNECTIONS = 400;
/** Seconds of the offered load before the measured ones (bench/open-loop.ts): the client's 400 connections open in them. */
const WARM_UP_SECONDS = Number(env.BENCH_OVERLOAD_WARMUP ?? 2);
const P95_TARGET_MS = 200;

const roundMs = (ms: number) => Math.round(ms * 10) / 10;

function percentile(values: number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
}

async function main(): Promise<number> {
  const list = reads('').find((r) => r.key === 'list');
  if (!list) throw new Error('the list read is missing from bench/reads.ts');
  console.log(`seeding a fresh schema on ${databaseUrl} …`);
  const dataset = await createDataset(databaseUrl, await benchModel('open'));
  const server = await startServer('kiln', resolve(here, 'kiln-server.ts'), {
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      KILN_DB_SCHEMA: dataset.schema,
      KILN_CURSOR_SECRET: 'kiln-bench-cursor-secret',
      ...BENCH_AUTH_ENV,
      // autocannon is one caller: the default per-caller limit would answer it 429.
      KILN_RATE_LIMIT: 'off',
      KILN_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      BENCH_MODEL: 'open',
    },
    stdout: 'ignore',
  });
  try {
    const next = requestsOf(list, 1, dataset.size);
    process.stdout.write('capacity: warm-up …');
    await measure(server.url, next, { connections, duration: Math.min(3, duration) });
    process.stdout.write(' measuring …');
    const capacity = summarize([await measure(server.url, next, { connections, duration })]);
    // What it served, not what it answered: answers shed during this phase are no capacity.
    const capacityPerSec = capacity.requests === 0 ? 0 : capacity.requestsPerSec * (1 - capacity.non2xx / capacity.requests);
    const rate = Math.round(capacityPerSec * offeredMultiple);
    console.log(` ${Math.round(capacityPerSec)} req/s served; offering ${rate} req/s for ${WARM_UP_SECONDS} s of warm-up, then ${duration} s …`);
    const offered = await offerOpenLoop(server.url, next, {
      rate,
      warmUpSeconds: WARM_UP_SECONDS,
      seconds: duration,
      connections: OPEN_LOOP_CONNECTIONS,
      timeoutMs: 10_000,
    });

    const answered = Object.values(offered.byStatus).reduce((n, c) => n + c, 0);
    const accepted = offered.acceptedLatencies.length;
    const shed = offered.byStatus[503] ?? 0;
    const otherFailures = Object.entries(offered.byStatus)
      .filter(([status]) => Number(status) >= 500 && Number(status) !== 503)
      .reduce((n, [, c]) => n + c, 0);
    const p95 = percentile(offered.acceptedLatencies, 95);
    const warmUpFailures = Object.entries(offered.warmUp.byStatus)
      .filter(([status]) => Number(status) >= 500 && Number(status) !== 503)
      .reduce((n, [, c]) => n + c, 0);
    const checks = {
      'nothing lost (no connection error, no timeout), warm-up included': offered.errors === 0 && offered.timeouts === 0 && offered.warmUp.errors === 0,
      'no 5xx but 503 shedding, warm-up included': otherFailures === 0 && warmUpFailures === 0,
      [`p95 of accepted requests under ${P95_TARGET_MS} ms`]: p95 < P95_TARGET_MS,
    };
    const report = {
      date: new Date().toISOString(),
      machine: machine(dataset.serverVersion),
      read: list.name,
      capacityPerSec: Math.round(capacityPerSec),
      capacityShed: capacity.non2xx,
      offeredPerSec: rate,
      seconds: duration,
      sent: offered.sent,
      answered,
      byStatus: offered.byStatus,
      accepted,
      shed,
      errors: offered.errors,
      timeouts: offered.timeouts,
      acceptedP50Ms: roundMs(percentile(offered.acceptedLatencies, 50)),
      acceptedP95Ms: roundMs(p95),
      acceptedP99Ms: roundMs(percentile(offered.acceptedLatencies, 99)),
      // Counted apart: the client opening its connections (see bench/open-loop.ts).
      warmUp: {
        seconds: WARM_UP_SECONDS,
        sent: offered.warmUp.sent,
        byStatus: offered.warmUp.byStatus,
        errors: offered.warmUp.errors,
        acceptedP95Ms: roundMs(percentile(offered.warmUp.acceptedLatencies, 95)),
      },
      checks,
    };
    console.log(JSON.stringify(report, null, 2));
    writeFileSync(resolve(here, 'overload-results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const failed = Object.entries(checks).filter(([, ok]) => !ok);
    for (const [name] of failed) console.error(`missed: ${name}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await server.stop();
    await dataset.drop();
  }
}

process.exitCode = await main();
