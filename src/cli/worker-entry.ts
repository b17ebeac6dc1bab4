/**
 * What a worker of `kiln serve --workers N` runs (src/cli/workers.ts): the primary's command line,
 * through the same CLI, which serves as one worker of the cluster.
 */
import cluster from 'node:cluster';
import { main } from './main.js';
import { WORKER_ARGV } from './workers.js';

process.exitCode = await main(JSON.parse(process.env[WORKER_ARGV] ?? '[]') as string[]);
// The channel to the primary keeps a worker alive: once it has stopped serving, let go of it so it exits.
cluster.worker?.disconnect();
