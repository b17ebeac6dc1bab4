export const COMMANDS = {
  init: 'Create a new Kiln project (model, scripts, Dockerfile, compose.yaml) in an empty folder',
  serve: 'Serve the REST API, docs and health checks for a model',
  dev: 'Serve, migrate and restart when the model file (or a file it imports) changes',
  check: 'Validate a model and print its API surface (resources, routes, fields)',
  openapi: 'Print the OpenAPI 3.1 document of a model',
  graphql: 'Print the GraphQL schema (SDL) of a model',
  migrate: 'Generate, apply, revert and check SQL migrations of the model',
  auth: 'Manage the keys of authentication (auth keygen: a signing key for KILN_AUTH_JWT_KEYS)',
  accounts: 'Create, list, disable and enable accounts and set their roles (a model with auth.accounts)',
  'api-keys': 'Create, list and revoke the API keys of accounts',
} as const;

export const MIGRATE_COMMANDS = {
  generate: 'Write the next migration from the change of the model since the last one',
  up: 'Apply the pending migrations, in order',
  down: 'Revert the last N applied migrations (default 1) with their down.sql',
  status: 'List the migrations and whether each is applied',
  verify: 'Check the history, pending migrations, drift of the database and ungenerated model changes',
  squash: 'Merge the migrations not yet committed to git into one',
} as const;

export type CommandName = keyof typeof COMMANDS;
export type MigrateCommandName = keyof typeof MIGRATE_COMMANDS;
/**
 * A command as parsed: `serve`, or `migrate up` (`auth` parses its own arguments: src/cli/auth-keys.ts;
 * so do `accounts` and `api-keys`, whose flags depend on the model: src/cli/auth-cli.ts).
 */
export type Invocation = Exclude<CommandName, 'migrate' | 'auth' | 'accounts' | 'api-keys'> | `migrate ${MigrateCommandName}`;

const MODEL = '  --model PATH            model file (.ts, .js, .yaml, .json); default kiln.config.ts or $KILN_MODEL';
const CONFIG = '  --config PATH           settings file; environment variables override it';
const MIGRATIONS = '  --migrations DIR        migrations folder; default migrations/ beside the model file';
const DATABASE = [MODEL, CONFIG, MIGRATIONS].join('\n');

const OPTIONS: Record<Invocation, string> = {
  serve: `${MODEL}
${CONFIG}
  --port N                port to listen on (overrides PORT)
  --seed PATH             JSON records to load when the database is empty
${MIGRATIONS}
  --migrate               apply pending migrations before serving (without it, pending migrations stop the start)
  --workers N             serve from N processes sharing the port (PostgreSQL only); a worker that dies is replaced`,
  dev: `${MODEL}
${CONFIG}
  --port N                port to listen on
  --seed PATH             JSON records to load when the database is empty
${MIGRATIONS}
  --rename OLD=NEW        a rename, not a drop and an add (as for migrate generate; repeatable)
  --no-renames            every dropped-and-added pair is a drop and an add
  --backfill F=SQL        value for existing rows when field F is added or becomes NOT NULL (repeatable)
  --allow-destructive     let model changes drop columns, tables or data`,
  check: MODEL,
  init: '  DIR                     folder to create the project in (empty or missing); default the current one',
  openapi: `${MODEL}
  --config PATH           settings file (prefix, limits, public URL)`,
  graphql: `${MODEL}
  --config PATH           settings file (limits, page sizes)`,
  'migrate generate': `${MODEL}
${MIGRATIONS}
  --name NAME             name of the migration, e.g. add-post-slug
  --rename OLD=NEW        a rename, not a drop and an add: posts=articles, posts.title=headline,
                          posts.status:published=live (repeatable)
  --no-renames            every dropped-and-added pair is a drop and an add
  --backfill F=SQL        value for existing rows when field F (resource.field) is added or becomes
                          NOT NULL, e.g. --backfill "posts.slug=lower(title)" (repeatable)
  --allow-destructive     generate even if steps drop columns, tables or data (each is marked in up.sql)`,
  'migrate up': DATABASE,
  'migrate down': DATABASE,
  'migrate status': DATABASE,
  'migrate verify': DATABASE,
  'migrate squash': `${DATABASE}
  --name NAME             name of the merged migration; default initial, or the first one's name and "etc"`,
};

export function generalUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`);
  return `Usage: kiln <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "kiln <command> --help" for the options of a command.`;
}

export function migrateUsage(): string {
  const width = Math.max(...Object.keys(MIGRATE_COMMANDS).map((c) => c.length));
  const lines = Object.entries(MIGRATE_COMMANDS).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`);
  return `Usage: kiln migrate <command> [options]\n\n${COMMANDS.migrate}.\n\nCommands:\n${lines.join('\n')}\n\nRun "kiln migrate <command> --help" for the options of a command.`;
}

export function commandUsage(command: Invocation): string {
  const [head, sub] = command.split(' ') as [CommandName, MigrateCommandName | undefined];
  const text = sub ? MIGRATE_COMMANDS[sub] : COMMANDS[head];
  const args = command === 'migrate down' ? ' [N]' : command === 'init' ? ' [DIR]' : '';
  return `Usage: kiln ${command}${args} [options]\n\n${text}.\n\nOptions:\n${OPTIONS[command]}\n  -h, --help              show this help`;
}
