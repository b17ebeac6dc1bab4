/**
 * Kiln as bench/run.ts starts it, in a process of its own: the blog model on PostgreSQL (with open
 * access, or with the row rule of bench/models.ts when BENCH_MODEL=rule), settings from the
 * environment like `kiln serve` (validation on, one info log line per request to stdout, which the
 * runner sends to a file). Reports its URL over IPC and shuts down gracefully on SIGTERM.
 */
import { resolveSettings } from '../src/config/settings.js';
import { startKiln } from '../src/start.js';
import { BENCH_MODELS, type BenchModel, benchModel } from './models.js';

const kind = (process.env.BENCH_MODEL ?? 'open') as BenchModel;
if (!BENCH_MODELS.includes(kind)) throw new Error(`BENCH_MODEL must be one of ${BENCH_MODELS.join(', ')}`);
const settings = resolveSettings(process.env);
const kiln = await startKiln({ model: await benchModel(kind), settings });
process.send?.({ url: kiln.url.replace('localhost', '127.0.0.1') });

const stop = async () => {
  await kiln.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
