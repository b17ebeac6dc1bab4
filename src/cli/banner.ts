import { isAbsolute, relative } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { Model } from '../model/ir.js';
import type { RunningKiln } from '../start.js';
import type { CliOptions } from './main.js';
import { migrationsDir } from './migrate.js';

function shownDataDir(dir: string): string {
  if (dir === 'memory') return 'memory';
  return isAbsolute(dir) || dir.startsWith('./') || dir.startsWith('../') ? dir : `./${dir}`;
}

export function banner(kiln: RunningKiln, model: Model, settings: Settings, options: CliOptions): string {
  const db = settings.databaseUrl
    ? `PostgreSQL (DATABASE_URL), schema "${settings.dbSchema}"`
    : `embedded PGlite in ${shownDataDir(settings.dataDir)} (set DATABASE_URL for PostgreSQL)`;
  return [
    `Kiln is serving ${options.model}`,
    `  API       ${kiln.url}${settings.apiPrefix}  (${model.resources.map((r) => `/${r.path}`).join(', ')})`,
    `  Docs      ${kiln.url}/docs`,
    `  OpenAPI   ${kiln.url}/openapi.json`,
    `  Health    ${kiln.url}/healthz  ${kiln.url}/readyz`,
    `  Database  ${db}`,
    `  Schema    migrations in ${relative(process.cwd(), migrationsDir(options)) || '.'}`,
    ...(kiln.seeded ? [`  Seeded    ${options.seed} (first run)`] : []),
    'Press Ctrl+C to stop.',
  ].join('\n');
}
