import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runAccounts } from './accounts.js';
import { runApiKeys } from './api-keys.js';
import { runAuth } from './auth-keys.js';
import { runCheck } from './check.js';
import { runGraphql } from './graphql.js';
import { runInit } from './init.js';
import { runMigrate } from './migrate.js';
import { defaultModelPath, MODEL_FILE_NAMES } from './model-path.js';
import { runOpenapi } from './openapi.js';
import { runDev, runServe } from './serve.js';
import { COMMANDS, commandUsage, generalUsage, type Invocation, MIGRATE_COMMANDS, type MigrateCommandName, migrateUsage } from './usage.js';
import { isUserError } from './user-errors.js';

export interface CliOptions {
  model: string;
  config?: string;
  port?: number;
  seed?: string;
  /** Migrations folder; default `migrations/` beside the model. */
  migrations?: string;
  /** `serve --migrate`: apply pending migrations on start. */
  migrate?: boolean;
  /** `serve --workers N`: processes sharing the port (src/cli/workers.ts). */
  workers?: number;
  allowDestructive?: boolean;
  name?: string;
  rename?: string[];
  noRenames?: boolean;
  backfill?: string[];
  /** `migrate down N`. */
  count?: number;
  /** `init [DIR]`: the folder to create the project in; default the current one. */
  dir?: string;
}

const FLAGS = {
  model: { type: 'string' },
  config: { type: 'string' },
  port: { type: 'string' },
  seed: { type: 'string' },
  migrations: { type: 'string' },
  migrate: { type: 'boolean' },
  workers: { type: 'string' },
  name: { type: 'string' },
  rename: { type: 'string', multiple: true },
  'no-renames': { type: 'boolean' },
  backfill: { type: 'string', multiple: true },
  'allow-destructive': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DATABASE_FLAGS = ['model', 'config', 'migrations', 'help'];
const ALLOWED: Record<Invocation, readonly string[]> = {
  serve: ['model', 'config', 'port', 'seed', 'migrations', 'migrate', 'workers', 'help'],
  dev: ['model', 'config', 'port', 'seed', 'migrations', 'rename', 'no-renames', 'backfill', 'allow-destructive', 'help'],
  init: ['help'],
  check: ['model', 'help'],
  openapi: ['model', 'config', 'help'],
  graphql: ['model', 'config', 'help'],
  'migrate generate': ['model', 'migrations', 'name', 'rename', 'no-renames', 'backfill', 'allow-destructive', 'help'],
  'migrate up': DATABASE_FLAGS,
  'migrate down': DATABASE_FLAGS,
  'migrate status': DATABASE_FLAGS,
  'migrate verify': DATABASE_FLAGS,
  'migrate squash': ['model', 'config', 'migrations', 'name', 'help'],
};

/** The commands that read the model file (the others need only the migrations beside it). */
const LOADS_MODEL: readonly Invocation[] = ['serve', 'dev', 'check', 'openapi', 'graphql', 'migrate generate', 'migrate verify', 'migrate squash'];

type Values = {
  -readonly [K in keyof typeof FLAGS]?: (typeof FLAGS)[K] extends { multiple: true }
    ? string[]
    : (typeof FLAGS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** Runs the CLI and returns the exit code. Errors a user can fix print one clear message, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(generalUsage());
    return command === undefined ? 1 : 0;
  }
  if (!(command in COMMANDS)) {
    console.error(`kiln: unknown command "${command}"\n\n${generalUsage()}`);
    return 2;
  }
  if (command === 'auth') return runAuth(rest);
  if (command === 'accounts') return runAccounts(rest);
  if (command === 'api-keys') return runApiKeys(rest);
  let name: Invocation;
  let args = rest;
  if (command === 'migrate') {
    const [sub, ...subArgs] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      console.log(migrateUsage());
      return sub === undefined ? 1 : 0;
    }
    if (!(sub in MIGRATE_COMMANDS)) {
      console.error(`kiln migrate: unknown command "${sub}"\n\n${migrateUsage()}`);
      return 2;
    }
    name = `migrate ${sub as MigrateCommandName}`;
    args = subArgs;
  } else {
    name = command as Invocation;
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: name === 'migrate down' || name === 'init' }));
    const unknown = Object.keys(values).find((flag) => !ALLOWED[name].includes(flag));
    if (unknown) throw new Error(`Unknown option '--${unknown}'`);
    if (positionals.length > 1) throw new Error(`Unexpected argument '${positionals[1]}'`);
  } catch (error) {
    // Node's parseArgs messages run over several sentences and lines; the first says what is wrong.
    const first = ((error as Error).message.split('\n')[0] ?? '').split('. ')[0]?.replace(/\.$/, '');
    console.error(`kiln ${name}: ${first}\n\n${commandUsage(name)}`);
    return 2;
  }
  if (values.help) {
    console.log(commandUsage(name));
    return 0;
  }
  const port = values.port === undefined ? undefined : /^\d+$/.test(values.port) ? Number(values.port) : Number.NaN; // Number('') is 0
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    console.error(`kiln ${name}: --port must be a whole number from 0 to 65535\n\n${commandUsage(name)}`);
    return 2;
  }
  const workers = values.workers === undefined ? undefined : /^\d+$/.test(values.workers) ? Number(values.workers) : Number.NaN;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) {
    console.error(`kiln ${name}: --workers must be a whole number from 1 to 64\n\n${commandUsage(name)}`);
    return 2;
  }
  const count = name !== 'migrate down' || positionals[0] === undefined ? undefined : Number(positionals[0]);
  if (count !== undefined && !(Number.isInteger(count) && count >= 1)) {
    console.error(`kiln ${name}: N must be a whole number of migrations, at least 1\n\n${commandUsage(name)}`);
    return 2;
  }
  const options: CliOptions = {
    model: values.model ?? process.env.KILN_MODEL ?? defaultModelPath(),
    config: values.config,
    port,
    seed: values.seed,
    migrations: values.migrations,
    migrate: values.migrate,
    workers,
    allowDestructive: values['allow-destructive'],
    name: values.name,
    rename: values.rename,
    noRenames: values['no-renames'],
    backfill: values.backfill,
    count,
    dir: name === 'init' ? positionals[0] : undefined,
  };
  if (values.model === undefined && process.env.KILN_MODEL === undefined && LOADS_MODEL.includes(name) && !existsSync(options.model)) {
    console.error(
      `kiln ${name}: no model file in ${process.cwd()} (looked for ${MODEL_FILE_NAMES.join(', ')})\n` +
        'Create a project with "npx kilnjs init", or name the model file with --model PATH.',
    );
    return 1;
  }
  try {
    switch (name) {
      case 'serve':
        return await runServe(options, argv);
      case 'dev':
        return await runDev(options);
      case 'check':
        return await runCheck(options);
      case 'openapi':
        return await runOpenapi(options);
      case 'graphql':
        return await runGraphql(options);
      case 'init':
        return await runInit(options);
      default:
        return await runMigrate(name.slice('migrate '.length) as MigrateCommandName, options);
    }
  } catch (error) {
    if (isUserError(error)) {
      console.error(`kiln ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
