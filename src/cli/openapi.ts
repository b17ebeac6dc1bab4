import { loadModel } from '../model/load.js';
import { buildOpenApi } from '../openapi/document.js';
import type { CliOptions } from './main.js';
import { settingsFor } from './settings-file.js';

export async function runOpenapi(options: CliOptions): Promise<number> {
  const model = await loadModel(options.model);
  const settings = await settingsFor(options);
  const document = buildOpenApi(model, {
    prefix: settings.apiPrefix,
    publicUrl: settings.publicUrl,
    problemTypeBase: settings.problemTypeBase,
    limits: settings,
  });
  // A reader that stops early (`kiln openapi | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
