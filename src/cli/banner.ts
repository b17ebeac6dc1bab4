import { join, relative } from 'node:path';
import { accessTableOf, openAccessLines, rolesSummary, tableLines } from '../access/access-table.js';
import type { Settings } from '../config/settings.js';
import { shownDataDir } from '../db/data-dir-lock.js';
import { GRAPHQL_PATH } from '../graphql/endpoint.js';
import { GRAPHIQL_PATH, servesGraphiql } from '../graphql/graphiql.js';
import type { Model } from '../model/ir.js';
import type { RunningKiln } from '../start.js';
import type { CliOptions } from './main.js';
import { migrationsDir } from './migrate.js';

/** The CORS line: `corsDefault` when the origins are kiln dev's default rather than configured. */
function corsLine(settings: Settings, corsDefault: boolean): string {
  if (settings.corsOrigins.length === 0) return 'off (set KILN_CORS_ORIGINS to allow browser apps on other origins)';
  return `${settings.corsOrigins.join(', ')}${corsDefault ? ' (dev default; set KILN_CORS_ORIGINS to change)' : ''}`;
}

export function banner(kiln: RunningKiln, model: Model, settings: Settings, options: CliOptions, corsDefault = false, dev = false): string {
  const db = settings.databaseUrl
    ? `PostgreSQL (DATABASE_URL), schema "${settings.dbSchema}"`
    : `embedded PGlite in ${shownDataDir(settings.dataDir)} (set DATABASE_URL for PostgreSQL)`;
  return [
    `Kiln is serving ${options.model}`,
    `  API       ${kiln.url}${settings.apiPrefix}  (${model.resources.map((r) => `/${r.path}`).join(', ')})`,
    `  Docs      ${kiln.url}/docs`,
    `  OpenAPI   ${kiln.url}/openapi.json`,
    `  GraphQL   ${graphqlLine(kiln, settings, dev)}`,
    `  Health    ${kiln.url}/healthz  ${kiln.url}/readyz`,
    `  Database  ${db}`,
    `  Schema    migrations in ${relative(process.cwd(), migrationsDir(options)) || '.'}`,
    `  CORS      ${corsLine(settings, corsDefault)}`,
    ...authLines(kiln, model, settings, dev),
    ...accessLines(model),
    ...seedLine(kiln, options),
    'Press Ctrl+C to stop.',
  ].join('\n');
}

/** Where GraphQL is served, and GraphiQL beside it when it is (not in production: src/graphql/graphiql.ts). */
function graphqlLine(kiln: RunningKiln, settings: Settings, dev: boolean): string {
  if (!settings.graphql) return 'off (set KILN_GRAPHQL=true to serve /graphql)';
  const ide = servesGraphiql(settings, dev) ? `  (GraphiQL: ${kiln.url}${GRAPHIQL_PATH})` : '';
  return `${kiln.url}${GRAPHQL_PATH}${ide}`;
}

/**
 * Who may do what, as `kiln check` prints it: the roles and the effective access table, or the warning
 * that everything is open to everyone. A large model makes it long; the issue asks for it here.
 */
function accessLines(model: Model): string[] {
  const table = accessTableOf(model);
  const lines = model.access && table ? [rolesSummary(model.access), ...tableLines(table)] : openAccessLines();
  return lines.map((line, i) => `${i === 0 ? '  Access    ' : '            '}${line}`);
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

/** Where accounts sign in, which key signs their tokens, and whether mail goes out. */
function authLines(kiln: RunningKiln, model: Model, settings: Settings, dev: boolean): string[] {
  const accounts = model.auth?.accounts;
  if (!accounts) return model.auth ? ['  Auth      bearer tokens of the issuers in auth.bearer'] : [];
  const key = settings.authJwtKeys
    ? `the keys of ${settings.authJwtKeys}`
    : settings.authJwtSecret
      ? 'KILN_AUTH_JWT_SECRET'
      : settings.dataDir === 'memory'
        ? 'a key made for this process'
        : `a key kept in ${join(shownDataDir(settings.dataDir), 'auth-secret')} (set KILN_AUTH_JWT_SECRET in production)`;
  const mail = settings.smtpUrl
    ? 'sent over SMTP'
    : dev
      ? 'printed here (KILN_SMTP_URL is not set)'
      : 'off, so no password reset or verification (set KILN_SMTP_URL)';
  return [
    `  Auth      ${kiln.url}${settings.apiPrefix}/auth  (${accounts.resource} sign in with ${accounts.login})`,
    `            tokens signed with ${key}; mail ${mail}`,
  ];
}
