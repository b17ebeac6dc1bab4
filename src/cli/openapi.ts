import { describeApi } from '../http/server.js';
import { loadModel } from '../model/load.js';
import type { CliOptions } from './main.js';
import { settingsFor } from './settings-file.js';

/** Writes the document `kiln serve` would serve with the same model and settings: custom and auth routes, security schemes and all. */
export async function runOpenapi(options: CliOptions): Promise<number> {
  const model = await loadModel(options.model);
  const settings = await settingsFor(options);
  const document = await describeApi(model, settings);
  // A reader that stops early (`kiln openapi | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
