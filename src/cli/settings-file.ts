import { resolve } from 'node:path';
import { FileReadError, readDeclarationFile } from '../config/read-file.js';
import { ConfigError, resolveSettings, type Settings } from '../config/settings.js';
import type { CliOptions } from './main.js';

/** Settings from the environment over the optional --config file, with --port on top. */
export async function settingsFor(options: CliOptions): Promise<Settings> {
  let file: Record<string, unknown> = {};
  if (options.config) {
    const path = resolve(options.config);
    try {
      const read = await readDeclarationFile(path);
      if (typeof read !== 'object' || read === null || Array.isArray(read)) throw new ConfigError(`${path}: the settings file must hold an object`);
      file = read as Record<string, unknown>;
    } catch (error) {
      if (error instanceof FileReadError) throw new ConfigError(`${path}: ${error.message}`);
      throw error;
    }
  }
  return resolveSettings(process.env, file, options.port === undefined ? {} : { port: options.port });
}
