/**
 * Kiln as `kiln serve --workers N` runs it, for bench/run.ts: this process is the node:cluster
 * primary and forks BENCH_WORKERS (default 2) workers, each the Kiln of bench/kiln-server.ts; they
 * share one port (listen(0) in a cluster gives every worker the same one). Reports the URL over IPC
 * once every worker listens, and stops them all on SIGTERM.
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const workers = Number(process.env.BENCH_WORKERS ?? 2);
if (!(workers >= 1)) throw new Error('BENCH_WORKERS must be a whole number from 1');

cluster.setupPrimary({ exec: fileURLToPath(new URL('./kiln-server.ts', import.meta.url)), execArgv: ['--import', 'tsx'] });
let ready = 0;
let stopping = false;
const forked = Array.from({ length: workers }, () => cluster.fork());
for (const worker of forked) {
  worker.on('message', (message: { url?: string }) => {
    if (message.url && ++ready === workers) process.send?.({ url: message.url });
  });
}
cluster.on('exit', (worker, code) => {
  if (!stopping) {
    console.error(`bench worker ${worker.process.pid} exited with ${code}`);
    process.exit(1);
  }
});

const stop = () => {
  stopping = true;
  for (const worker of forked) worker.process.kill('SIGTERM');
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
