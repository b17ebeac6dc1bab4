import { printSchema } from 'graphql';
import { describeGraphql } from '../http/server.js';
import { loadModel } from '../model/load.js';
import type { CliOptions } from './main.js';
import { settingsFor } from './settings-file.js';

/**
 * Writes the GraphQL schema (SDL) `kiln serve` would serve at /graphql with the same model and
 * settings, without a database: for code generators and clients, and for servers whose introspection
 * is off in production.
 */
export async function runGraphql(options: CliOptions): Promise<number> {
  const model = await loadModel(options.model);
  const settings = await settingsFor(options);
  const schema = await describeGraphql(model, settings);
  // A reader that stops early (`kiln graphql | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  process.stdout.write(`${printSchema(schema)}\n`);
  return 0;
}
