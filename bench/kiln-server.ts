/**
 * Kiln as bench/run.ts starts it, in a process of its own: the blog model on PostgreSQL, settings
 * from the environment like `kiln serve` (validation on, one info log line per request to stdout,
 * which the runner sends to a file). Reports its URL over IPC and shuts down gracefully on SIGTERM.
 */
import { resolve } from 'node:path';
import { resolveSettings } from '../src/config/settings.js';
import { loadModel } from '../src/model/load.js';
import { startKiln } from '../src/start.js';

const settings = resolveSettings(process.env);
const model = await loadModel(resolve(import.meta.dirname, '../examples/blog/kiln.config.ts'));
const kiln = await startKiln({ model, settings });
process.send?.({ url: kiln.url.replace('localhost', '127.0.0.1') });

const stop = async () => {
  await kiln.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
