/**
 * `npm run bench`: Kiln against the hand-written Fastify + pg server (bench/baseline.ts) on the same
 * two reads, same data, same pool size, each server in its own process, load from this process.
 * Prints a table and writes bench/results.json. Settings (environment):
 *   BENCH_DURATION     seconds measured per read and server (default 10)
 *   BENCH_ROUNDS       the measurement is split in this many rounds alternating the servers (default 5)
 *   BENCH_WARMUP       seconds of warm-up per read and server (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   KILN_DB_POOL_MAX   pool size of both servers (default 10, Kiln's default)
 *   BENCH_DATABASE_URL PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_READS        comma-separated keys of the reads to run (default all: byId,byIdAuth,list)
 *   BENCH_PROFILE=1    run both servers with --cpu-prof; profiles land in bench/.profiles/{kiln,baseline}/
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel } from '../src/model/load.js';
import { BENCH_AUTH_ENV, benchAccessToken } from './access-token.js';
import { type ServerProcess, startServer } from './child.js';
import { postgresCpu, postgresCpuBetween, processCpuSeconds } from './cpu.js';
import { createDataset, type Dataset } from './dataset.js';
import { measure, type Sample, summarize } from './load.js';
import { reads as allReads, assertSameAnswers, type Read } from './reads.js';
import { formatTable, machine, type ReadResult } from './report.js';

const here = import.meta.dirname;
const env = process.env;
const positive = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!(value > 0)) throw new Error(`${name} must be a positive number`);
  return value;
};
const config = {
  duration: positive('BENCH_DURATION', 10),
  rounds: Math.round(positive('BENCH_ROUNDS', 5)),
  warmup: positive('BENCH_WARMUP', 3),
  connections: positive('BENCH_CONNECTIONS', 50),
  poolMax: positive('KILN_DB_POOL_MAX', 10),
  databaseUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  reads: env.BENCH_READS?.split(',').map((r) => r.trim()),
  profile: env.BENCH_PROFILE === '1',
};
const CURSOR_SECRET = 'kiln-bench-cursor-secret';
const profileDir = resolve(here, '.profiles');

async function main(): Promise<number> {
  const reads = allReads(await benchAccessToken()).filter((r) => !config.reads || config.reads.includes(r.key));
  const model = await loadModel(resolve(here, '../examples/blog/kiln.config.ts'));
  console.log(`seeding a fresh schema on ${config.databaseUrl} …`);
  const dataset = await createDataset(config.databaseUrl, model);
  const logDir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const logFile = join(logDir, 'kiln.log');
  const logFd = openSync(logFile, 'w');
  const servers: ServerProcess[] = [];
  const cleanup = async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    closeSync(logFd);
    rmSync(logDir, { recursive: true, force: true });
    await dataset.drop();
  };
  const interrupted = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const serverEnv = {
      ...env,
      DATABASE_URL: config.databaseUrl,
      KILN_DB_SCHEMA: dataset.schema,
      KILN_DB_POOL_MAX: String(config.poolMax),
      KILN_CURSOR_SECRET: CURSOR_SECRET,
      ...BENCH_AUTH_ENV,
      KILN_LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
    };
    const profile = (name: string) => (config.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
    const started = await Promise.allSettled([
      startServer('baseline', resolve(here, 'baseline.ts'), { env: serverEnv, stdout: 'ignore', execArgv: profile('baseline') }),
      startServer('kiln', resolve(here, 'kiln-server.ts'), { env: serverEnv, stdout: logFd, execArgv: profile('kiln') }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [baseline, kiln] = servers as [ServerProcess, ServerProcess];
    await assertSameAnswers(baseline.url, kiln.url, dataset.size, reads);

    const results: ReadResult[] = [];
    for (const read of reads) results.push(await compare(read, dataset, baseline, kiln));
    await Promise.all(servers.map((s) => s.stop()));
    const logLines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"msg":"request"')).length;

    console.log(`\n${formatTable(results)}\n`);
    console.log(
      `${config.connections} connections, ${config.duration} s per read and server in ${config.rounds} alternating rounds, ` +
        `pool ${config.poolMax}; Kiln wrote ${logLines} request log lines.`,
    );
    const verification = verificationCost(results);
    if (verification) console.log(verification);
    const failures = results.flatMap((r) =>
      (['baseline', 'kiln'] as const)
        .filter((s) => r[s].errors > 0 || r[s].non2xx > 0)
        .map((s) => `${r.name} on ${s}: ${r[s].errors} errors, ${r[s].non2xx} non-2xx`),
    );
    for (const failure of failures) console.error(`invalid run: ${failure}`);
    const settings = { ...config, reads: reads.map((r) => r.key), dataset: dataset.size };
    const report = { date: new Date().toISOString(), machine: machine(dataset.serverVersion), settings, reads: results, kilnRequestLogLines: logLines };
    writeFileSync(resolve(here, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (config.profile) console.log(`CPU profiles in ${profileDir}`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    await cleanup();
  }
}

/**
 * Warms both servers up, then measures them in alternating rounds, so a burst of load from elsewhere
 * on the machine falls on both alike. Also records the CPU time each request cost the server and
 * PostgreSQL.
 */
async function compare(read: Read, dataset: Dataset, baseline: ServerProcess, kiln: ServerProcess): Promise<ReadResult> {
  const load = { connections: config.connections, duration: config.duration / config.rounds, headers: read.headers };
  process.stdout.write(`${read.name}: warm-up …`);
  for (const server of [baseline, kiln]) await measure(server.url, read.paths(dataset.size), { ...load, duration: config.warmup });
  const samples = new Map<ServerProcess, Sample[]>([
    [baseline, []],
    [kiln, []],
  ]);
  const cpu = new Map<ServerProcess, { server: number; postgres: number }>([
    [baseline, { server: 0, postgres: 0 }],
    [kiln, { server: 0, postgres: 0 }],
  ]);
  for (let round = 0; round < config.rounds; round++) {
    process.stdout.write(` round ${round + 1}/${config.rounds}`);
    for (const server of round % 2 === 0 ? [baseline, kiln] : [kiln, baseline]) {
      const [serverBefore, postgresBefore] = [processCpuSeconds(server.pid), postgresCpu()];
      samples.get(server)?.push(await measure(server.url, read.paths(dataset.size), load));
      const used = cpu.get(server) as { server: number; postgres: number };
      used.server += processCpuSeconds(server.pid) - serverBefore;
      used.postgres += postgresCpuBetween(postgresBefore, postgresCpu());
    }
  }
  console.log('');
  const result = (server: ServerProcess) => {
    const summary = summarize(samples.get(server) ?? []);
    const used = cpu.get(server) as { server: number; postgres: number };
    return { ...summary, serverCpuUs: (used.server / summary.requests) * 1e6, postgresCpuUs: (used.postgres / summary.requests) * 1e6 };
  };
  const [b, k] = [result(baseline), result(kiln)];
  return { name: read.name, example: read.paths(dataset.size)(), baseline: b, kiln: k, ratio: k.requestsPerSec / b.requestsPerSec };
}

/** What verifying the bearer token adds per read by id: the server CPU of the authenticated read minus the anonymous one's. */
function verificationCost(results: readonly ReadResult[]): string | undefined {
  const anonymous = results.find((r) => r.name === 'GET /v1/posts/:id');
  const authenticated = results.find((r) => r.name === 'GET /v1/posts/:id, Bearer JWT');
  if (!anonymous || !authenticated) return undefined;
  const cost = (server: 'baseline' | 'kiln') => Math.round(authenticated[server].serverCpuUs - anonymous[server].serverCpuUs);
  return `Verifying the bearer token costs Kiln ${cost('kiln')} µs of server CPU per read by id, the baseline ${cost('baseline')} µs.`;
}

process.exitCode = await main();
