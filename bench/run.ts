/**
 * `npm run bench`: Kiln against the hand-written Fastify + pg server (bench/baseline.ts) on the same
 * reads, same data, same pool size, each server in its own process, load from this process; and Kiln
 * under a row rule against Kiln without rules on the same list (bench/models.ts), the cost of a rule.
 * Prints a table and writes bench/results.json. Settings (environment):
 *   BENCH_DURATION     seconds measured per read and server (default 10)
 *   BENCH_ROUNDS       the measurement is split in this many rounds alternating the servers (default 5)
 *   BENCH_WARMUP       seconds of warm-up per read and server (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   KILN_DB_POOL_MAX   pool size of both servers (default 10, Kiln's default)
 *   BENCH_DATABASE_URL PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_READS        comma-separated keys of the reads to run (default all: byId,byIdAuth,list,listRule,listGraphql,getCached,listCached,listWorkers,listRuleByHand)
 *   BENCH_PROFILE=1    run the servers with --cpu-prof; profiles land in bench/.profiles/{baseline,kiln,kilnRule}/
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_AUTH_ENV, benchAccessToken } from './access-token.js';
import { type ServerProcess, startServer } from './child.js';
import { postgresCpu, postgresCpuBetween, processTreeCpuSeconds, withApplicationName } from './cpu.js';
import { createDataset, type Dataset } from './dataset.js';
import { measure, type Sample, summarize } from './load.js';
import { benchModel, ROW_RULE } from './models.js';
import { reads as allReads, assertSameAnswers, type Read, requestsOf, SERVER_LABELS, type ServerName } from './reads.js';
import { byHandCost, costRatio, formatTable, machine, type ReadResult, ruleCost } from './report.js';

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
/** Each server connects under a name of its own, so the PostgreSQL backends serving it can be told apart. */
const applicationName = (server: ServerName) => `kiln-bench-${server}`;
const profileDir = resolve(here, '.profiles');

async function main(): Promise<number> {
  const reads = allReads(await benchAccessToken()).filter((r) => !config.reads || config.reads.includes(r.key));
  const model = await benchModel('open');
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
      // autocannon is one caller: with the default KILN_RATE_LIMIT it would measure 429s. The baseline has no limits either.
      KILN_RATE_LIMIT: env.KILN_RATE_LIMIT ?? 'off',
      // As deployed: graphql-js checks its own types more slowly outside production (jsutils/instanceOf).
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
    };
    const profile = (name: string) => (config.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
    const needed = new Set(reads.flatMap((r) => r.servers));
    const scripts: Record<ServerName, { script: string; env?: NodeJS.ProcessEnv; stdout: number | 'ignore' }> = {
      baseline: { script: 'baseline.ts', stdout: 'ignore' },
      kiln: { script: 'kiln-server.ts', env: { BENCH_MODEL: 'open' }, stdout: logFd },
      kilnRule: { script: 'kiln-server.ts', env: { BENCH_MODEL: 'rule' }, stdout: logFd },
      kilnGraphql: { script: 'kiln-server.ts', env: { BENCH_MODEL: 'open' }, stdout: logFd },
      kilnCached: { script: 'kiln-server.ts', env: { BENCH_MODEL: 'open', KILN_CACHE_TTL: '60' }, stdout: logFd },
      // Each worker has its own pool: KILN_DB_POOL_MAX per worker, as under `kiln serve --workers 2`.
      kilnWorkers: { script: 'kiln-cluster.ts', env: { BENCH_MODEL: 'open', BENCH_WORKERS: '2' }, stdout: logFd },
    };
    const names = (Object.keys(scripts) as ServerName[]).filter((name) => needed.has(name));
    const started = await Promise.allSettled(
      names.map((name) => {
        const { script, env: extra, stdout } = scripts[name];
        const env = { ...serverEnv, ...extra, DATABASE_URL: withApplicationName(config.databaseUrl, applicationName(name)) };
        return startServer(name, resolve(here, script), { env, stdout, execArgv: profile(name) });
      }),
    );
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const byName = new Map(servers.map((s) => [s.name as ServerName, s]));
    await assertSameAnswers(Object.fromEntries(servers.map((s) => [s.name, s.url])), dataset.size, reads);

    const results: ReadResult[] = [];
    for (const read of reads) {
      const [reference, subject] = read.servers.map((name) => byName.get(name) as ServerProcess) as [ServerProcess, ServerProcess];
      results.push(await compare(read, dataset, reference, subject));
    }
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
    const resultOf = (key: string) => results.find((r) => r.name === reads.find((read) => read.key === key)?.name);
    const [ruled, byHand] = [resultOf('listRule'), resultOf('listRuleByHand')];
    if (ruled) console.log(ruleCost(ruled, ROW_RULE));
    if (byHand) console.log(byHandCost(byHand));
    const failures = results.flatMap((r) =>
      ([0, 1] as const)
        .map((i) => ({ server: r.servers[i], m: i === 0 ? r.reference : r.subject }))
        .filter(({ m }) => m.errors > 0 || m.non2xx > 0)
        .map(({ server, m }) => `${r.name} on ${server}: ${m.errors} errors, ${m.non2xx} non-2xx`),
    );
    for (const failure of failures) console.error(`invalid run: ${failure}`);
    const settings = { ...config, reads: reads.map((r) => r.key), rowRule: ROW_RULE, dataset: dataset.size };
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
async function compare(read: Read, dataset: Dataset, reference: ServerProcess, subject: ServerProcess): Promise<ReadResult> {
  const load = { connections: config.connections, duration: config.duration / config.rounds, headers: read.headers };
  process.stdout.write(`${read.name}: warm-up …`);
  const requests = (server: ServerProcess) => requestsOf(read, server === reference ? 0 : 1, dataset.size);
  for (const server of [reference, subject]) await measure(server.url, requests(server), { ...load, duration: config.warmup });
  const samples = new Map<ServerProcess, Sample[]>([
    [reference, []],
    [subject, []],
  ]);
  const cpu = new Map<ServerProcess, { server: number; postgres: number }>([
    [reference, { server: 0, postgres: 0 }],
    [subject, { server: 0, postgres: 0 }],
  ]);
  for (let round = 0; round < config.rounds; round++) {
    process.stdout.write(` round ${round + 1}/${config.rounds}`);
    for (const server of round % 2 === 0 ? [reference, subject] : [subject, reference]) {
      const [serverBefore, postgresBefore] = [processTreeCpuSeconds(server.pid), postgresCpu()];
      samples.get(server)?.push(await measure(server.url, requests(server), load));
      const [serverAfter, postgresAfter] = [processTreeCpuSeconds(server.pid), postgresCpu()];
      const used = cpu.get(server) as { server: number; postgres: number };
      used.server += serverAfter - serverBefore;
      // Only the backends of this server's own connections: other clients of PostgreSQL do not count.
      used.postgres += postgresCpuBetween(postgresBefore, postgresAfter, await dataset.backends(applicationName(server.name as ServerName)));
    }
  }
  console.log('');
  const result = (server: ServerProcess) => {
    const summary = summarize(samples.get(server) ?? []);
    const used = cpu.get(server) as { server: number; postgres: number };
    return { ...summary, serverCpuUs: (used.server / summary.requests) * 1e6, postgresCpuUs: (used.postgres / summary.requests) * 1e6 };
  };
  const [r, s] = [result(reference), result(subject)];
  return {
    name: read.name,
    example: read.paths(dataset.size)(),
    servers: [SERVER_LABELS[read.servers[0]], SERVER_LABELS[read.servers[1]]],
    reference: r,
    subject: s,
    ratio: s.requestsPerSec / r.requestsPerSec,
    costRatio: costRatio(r, s),
  };
}

/** What verifying the bearer token adds per read by id: the server CPU of the authenticated read minus the anonymous one's. */
function verificationCost(results: readonly ReadResult[]): string | undefined {
  const anonymous = results.find((r) => r.name === 'GET /v1/posts/:id');
  const authenticated = results.find((r) => r.name === 'GET /v1/posts/:id, Bearer JWT');
  if (!anonymous || !authenticated) return undefined;
  const cost = (side: 'reference' | 'subject') => Math.round(authenticated[side].serverCpuUs - anonymous[side].serverCpuUs);
  return `Verifying the bearer token costs Kiln ${cost('subject')} µs of server CPU per read by id, the baseline ${cost('reference')} µs.`;
}

process.exitCode = await main();
