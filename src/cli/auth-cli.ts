/**
 * What `kiln accounts` and `kiln api-keys` share: their argument parsing (flags depend on the model,
 * whose login field names a flag), the services they work with on the configured database (the
 * same as the server's, built from the same settings), and how they report errors.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { undeclaredRoles } from '../access/check-rules.js';
import { type Account, AccountStore } from '../auth/account-store.js';
import { ApiKeys } from '../auth/api-keys.js';
import { Passwords } from '../auth/passwords.js';
import { RefreshTokens } from '../auth/refresh-tokens.js';
import { createSessions, type SessionService } from '../auth/sessions.js';
import { AUTH_TABLES } from '../auth/tables.js';
import type { Settings } from '../config/settings.js';
import { CompiledModel } from '../core/compiled-model.js';
import { CursorCodec } from '../core/cursor.js';
import { DatabaseErrorMapper } from '../core/database-errors.js';
import { Operations } from '../core/operations.js';
import type { Database } from '../db/database.js';
import { createKilnTables } from '../db/kiln-tables.js';
import { openDatabase } from '../db/open.js';
import type { AccountsModel, Model, Resource } from '../model/ir.js';
import { loadModel } from '../model/load.js';
import { createContext, limitsFrom, type RequestContext, SYSTEM } from '../pipeline/context.js';
import { openRedis } from '../redis/connect.js';
import type { CliOptions } from './main.js';
import { defaultModelPath, MODEL_FILE_NAMES } from './model-path.js';
import { settingsFor } from './settings-file.js';
import { isUserError } from './user-errors.js';

/** A mistake in the command line: printed with the usage, exit code 2 (as for every kiln command). */
export class UsageError extends Error {}

/** A request the data refuses (unknown account, weak password, …): printed alone, exit code 1. */
export class CommandError extends Error {}

const ROLE = /^[a-z][a-z0-9_-]{0,62}$/;
/** Roles every caller gets from Kiln itself; an account is never given them. */
const BUILT_IN_ROLES = ['anonymous', 'authenticated'];

export type FlagSpec = { readonly type: 'string' | 'boolean'; readonly multiple?: boolean };

/** One subcommand: its usage, its own flags, and how many positional arguments it takes. */
export interface Subcommand {
  readonly summary: string;
  /** After the command name in the usage line, e.g. `<login> <role>...`. */
  readonly args: string;
  /** Its option lines for the usage, without the common ones. */
  readonly options: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  readonly positionals: { readonly min: number; readonly max: number };
  /** Takes a flag named after the model's login field (`--email`) besides `--login`. */
  readonly loginFlag?: boolean;
}

const COMMON_FLAGS = { model: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
const COMMON_OPTIONS = `  --model PATH            model file (.ts, .js, .yaml, .json); default kiln.config.ts or $KILN_MODEL
  --config PATH           settings file; environment variables override it (DATABASE_URL, KILN_DATA_DIR, …)
  -h, --help              show this help`;

export interface CommandGroup<N extends string> {
  readonly name: string;
  readonly summary: string;
  readonly commands: Readonly<Record<N, Subcommand>>;
}

export function groupUsage<N extends string>(group: CommandGroup<N>): string {
  const entries = Object.entries(group.commands) as [string, Subcommand][];
  const width = Math.max(...entries.map(([name]) => name.length));
  const lines = entries.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: kiln ${group.name} <command> [options]\n\n${group.summary}.\n\nCommands:\n${lines.join('\n')}\n\nRun "kiln ${group.name} <command> --help" for the options of a command.`;
}

export function subcommandUsage<N extends string>(group: CommandGroup<N>, name: N): string {
  const c = group.commands[name];
  return `Usage: kiln ${group.name} ${name}${c.args ? ` ${c.args}` : ''} [options]\n\n${c.summary}.\n\nOptions:\n${c.options ? `${c.options}\n` : ''}${COMMON_OPTIONS}`;
}

export interface Parsed {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: string[];
  readonly options: CliOptions;
}

/**
 * Runs one subcommand of a group: usage on `--help` or a mistake, the model loaded (its login field
 * is a flag), `run` with the parsed arguments, and every error a user can fix as one line, exit 1.
 */
export async function runGroup<N extends string>(
  group: CommandGroup<N>,
  argv: readonly string[],
  run: (name: N, parsed: Parsed, model: Model) => Promise<number>,
): Promise<number> {
  const [sub, ...args] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(groupUsage(group));
    return sub === undefined ? 1 : 0;
  }
  if (!Object.hasOwn(group.commands, sub)) {
    console.error(`kiln ${group.name}: unknown command "${sub}"\n\n${groupUsage(group)}`);
    return 2;
  }
  const name = sub as N;
  const prefix = `kiln ${group.name} ${name}`;
  const command = group.commands[name];
  // First pass: only what is needed to find the model, whose login field names a flag.
  const early = parseArgs({ args: [...args], options: COMMON_FLAGS, strict: false, allowPositionals: true }).values;
  if (early.help === true) {
    console.log(subcommandUsage(group, name));
    return 0;
  }
  const modelPath = typeof early.model === 'string' ? early.model : (process.env.KILN_MODEL ?? defaultModelPath());
  try {
    if (!existsSync(modelPath)) {
      throw new CommandError(
        early.model === undefined && process.env.KILN_MODEL === undefined
          ? `no model file in ${process.cwd()} (looked for ${MODEL_FILE_NAMES.join(', ')}); name it with --model PATH`
          : `the model file ${modelPath} does not exist`,
      );
    }
    const model = await loadModel(modelPath);
    if (!model.auth?.accounts) throw noAccounts(modelPath);
    let parsed: Parsed;
    try {
      parsed = parse(command, args, model, modelPath);
    } catch (error) {
      // Node's parseArgs messages run over several sentences; the first says what is wrong.
      const first = ((error as Error).message.split('\n')[0] ?? '').split('. ')[0]?.replace(/\.$/, '');
      console.error(`${prefix}: ${first}\n\n${subcommandUsage(group, name)}`);
      return 2;
    }
    return await run(name, parsed, model);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${prefix}: ${error.message}\n\n${subcommandUsage(group, name)}`);
      return 2;
    }
    if (error instanceof CommandError || isUserError(error)) {
      console.error(`${prefix}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function parse(command: Subcommand, args: readonly string[], model: Model, modelPath: string): Parsed {
  const flags: Record<string, FlagSpec> = { ...COMMON_FLAGS, ...command.flags };
  const loginField = model.auth?.accounts?.login;
  if (command.loginFlag) {
    flags.login = { type: 'string' };
    if (loginField && !(loginField in flags)) flags[loginField] = { type: 'string' };
  }
  const { values, positionals } = parseArgs({ args: [...args], options: flags, strict: true, allowPositionals: true });
  if (positionals.length > command.positionals.max) throw new UsageError(`Unexpected argument '${positionals[command.positionals.max]}'`);
  if (positionals.length < command.positionals.min) throw new UsageError(`missing argument: ${command.args}`);
  const config = typeof values.config === 'string' ? values.config : undefined;
  return { values, positionals, options: { model: modelPath, ...(config !== undefined && { config }) } };
}

function noAccounts(modelPath: string): CommandError {
  return new CommandError(`the model ${modelPath} declares no accounts: add auth: { accounts: { resource: "users", login: "email" } } to it`);
}

/** The value of a required string flag. */
export function required(parsed: Parsed, flag: string): string {
  const value = parsed.values[flag];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${flag} is required`);
  return value;
}

/** The login given with --login or the flag named after the login field (--email). */
export function loginArgument(parsed: Parsed, accounts: AccountsModel): string {
  const generic = parsed.values.login;
  const named = parsed.values[accounts.login];
  if (typeof generic === 'string' && typeof named === 'string') throw new UsageError(`give the login once: --${accounts.login} or --login`);
  const login = typeof named === 'string' ? named : generic;
  if (typeof login !== 'string' || login.trim() === '') throw new UsageError(`--${accounts.login} (or --login) is required`);
  return login;
}

/** Role names as given to --role or set-roles: checked, duplicates dropped. */
export function roleNames(given: readonly string[]): string[] {
  for (const role of given) {
    if (BUILT_IN_ROLES.includes(role)) throw new CommandError(`"${role}" is a role Kiln gives by itself; it cannot be assigned`);
    if (!ROLE.test(role)) throw new CommandError(`"${role}" is not a role name: lower-case letters, digits, _ and -, starting with a letter`);
  }
  return [...new Set(given)];
}

/** Roles to give an account: role names that the model declares, when it declares roles (a typo would grant nothing). */
export function assignableRoles(given: readonly string[], model: Model): string[] {
  const roles = roleNames(given);
  const [undeclared] = undeclaredRoles(model.access, roles);
  if (undeclared !== undefined) {
    const declared = [...(model.access?.roles.keys() ?? [])].join(', ');
    throw new CommandError(`"${undeclared}" is not a role of the model; its roles are ${declared} (declare new ones under roles in the model)`);
  }
  return roles;
}

/** The services of the account commands, on the configured database. */
export interface AuthCli {
  readonly settings: Settings;
  readonly model: Model;
  readonly db: Database;
  readonly resource: Resource;
  readonly config: AccountsModel;
  readonly accounts: AccountStore;
  readonly passwords: Passwords;
  readonly apiKeys: ApiKeys;
  readonly ops: Operations;
  /** The operator at the terminal, as operations see the caller: Kiln's own system principal, which access rules do not limit. */
  readonly ctx: RequestContext;
  /** The account with this login; a CommandError naming it when there is none. */
  account(login: string): Promise<Account>;
  /** Ends what an account signed in with (refresh tokens, sessions): it signs in again to get its new state. */
  signOutEverywhere(accountId: string): Promise<void>;
}

/** Opens the configured database with the model's account services, runs `work`, and closes everything. */
export async function withAuthCli<T>(parsed: Parsed, model: Model, work: (cli: AuthCli) => Promise<T>): Promise<T> {
  const config = model.auth?.accounts;
  const resource = config && model.resourcesByName.get(config.resource);
  if (!config || !resource) throw noAccounts(parsed.options.model);
  const settings = await settingsFor(parsed.options);
  const db = await openDatabase(settings);
  let redis: Redis | undefined;
  try {
    const [table] = await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS "found"', [`"${resource.table.replace(/"/g, '""')}"`]);
    if (!table?.found) {
      throw new CommandError(`the database has no table ${resource.table} yet: apply the model's migrations first ("kiln migrate up")`);
    }
    await createKilnTables(db, AUTH_TABLES);
    // Sessions live in Redis when REDIS_URL is set: ending them means reaching it.
    redis = settings.redisUrl ? openRedis(settings.redisUrl, { keyPrefix: settings.redisKeyPrefix, maxRetriesPerRequest: 1, connectTimeout: 5000 }) : undefined;
    redis?.on('error', () => {}); // a failed command reports it; the event would only repeat it
    const accounts = new AccountStore(db, resource, config);
    const refresh = new RefreshTokens(db, settings);
    const sessions: SessionService = createSessions(accounts, { db, settings, dev: false, redis });
    const limits = limitsFrom(settings);
    const cli: AuthCli = {
      settings,
      model,
      db,
      resource,
      config,
      accounts,
      passwords: new Passwords(settings, config.password),
      apiKeys: new ApiKeys(db, resource),
      ops: new Operations({
        db,
        compiled: new CompiledModel(model, limits),
        cursors: new CursorCodec(settings.cursorSecret, settings.cursorPreviousSecrets),
        errors: new DatabaseErrorMapper(model),
      }),
      ctx: createContext({ limits, principal: SYSTEM }),
      async account(login) {
        const found = await accounts.findByLogin(login);
        if (!found) throw new CommandError(`no account has the ${config.login} ${accounts.normalizeLogin(login)}`);
        return found;
      },
      async signOutEverywhere(accountId) {
        await refresh.revokeAll(accountId);
        await sessions.revokeAll(accountId);
      },
    };
    return await work(cli);
  } finally {
    await redis?.quit().catch(() => redis?.disconnect());
    await db.close();
  }
}

/** Rows as aligned columns under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const rolesShown = (roles: readonly string[]) => (roles.length > 0 ? roles.join(',') : '-');
