import { relative } from 'node:path';
import type { Settings } from '../config/settings.js';
import { shownDataDir } from '../db/data-dir-lock.js';
import type { Model } from '../model/ir.js';
import type { RunningKiln } from '../start.js';
import type { CliOptions } from './main.js';
import { migrationsDir } from './migrate.js';

/** The CORS line: `corsDefault` when the origins are kiln dev's default rather than configured. */
function corsLine(settings: Settings, corsDefault: boolean): string {
  if (settings.corsOrigins.length === 0) return 'off (set KILN_CORS_ORIGINS to allow browser apps on other origins)';
  return `${settings.corsOrigins.join(', ')}${corsDefault ? ' (dev default; set KILN_CORS_ORIGINS to change)' : ''}`;
}

export function banner(kiln: RunningKiln, model: Model, settings: Settings, options: CliOptions, corsDefault = false): string {
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
    `  CORS      ${corsLine(settings, corsDefault)}`,
    ...seedLine(kiln, options),
    'Press Ctrl+C to stop.',
  ].join('\n');
}

/** Whether the seed file was loaded: it is, on the first run only. */
function seedLine(kiln: RunningKiln, options: CliOptions): string[] {
  if (kiln.seed?.status === 'loaded') {
    const { records } = kiln.seed;
    return [`  Seed      loaded ${records} record${records === 1 ? '' : 's'} from ${options.seed} (the database was empty)`];
  }
  if (kiln.seed?.status === 'skipped') return [`  Seed      skipped: the database already has data`];
  return [];
}
