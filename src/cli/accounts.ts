/**
 * `kiln accounts create | list | set-roles | disable | enable`: the accounts of the configured
 * database, managed by the operator, so the first administrator exists without SQL. An account is
 * created through the operations (the resource's validation and hooks run, as for a signup); a
 * change of roles or a disabled account signs the account out everywhere, so the change takes effect
 * at its next refresh at the latest (API keys and sessions read the account on every use).
 */
import { randomBytes } from 'node:crypto';
import { KilnError } from '../core/errors.js';
import type { Row } from '../core/query.js';
import { fieldKind } from '../core/value-messages.js';
import type { Queryable } from '../db/database.js';
import type { ColumnField, Model } from '../model/ir.js';
import {
  type AuthCli,
  assignableRoles,
  CommandError,
  type CommandGroup,
  loginArgument,
  type Parsed,
  rolesShown,
  runGroup,
  table,
  UsageError,
  withAuthCli,
} from './auth-cli.js';

type AccountsCommand = 'create' | 'list' | 'set-roles' | 'disable' | 'enable';

const LOGIN_OPTION = "  --<login field> VALUE   the login, by the name of the model's login field (--email), or --login VALUE";

export const ACCOUNTS: CommandGroup<AccountsCommand> = {
  name: 'accounts',
  summary: 'Create, list, disable and enable accounts, and set their roles, on the configured database',
  commands: {
    create: {
      summary: 'Create an account with a password (read from stdin, or generated and printed once)',
      args: '',
      options: `${LOGIN_OPTION}
  --password-stdin        read the password from standard input (without it, one is generated and printed once)
  --role ROLE             a role of the account (repeatable)
  --verified              mark the login (email address) as verified
  --field NAME=VALUE      another field of the account, e.g. --field "name=Ada Lovelace" (repeatable)`,
      flags: {
        'password-stdin': { type: 'boolean' },
        role: { type: 'string', multiple: true },
        verified: { type: 'boolean' },
        field: { type: 'string', multiple: true },
      },
      positionals: { min: 0, max: 0 },
      loginFlag: true,
    },
    list: { summary: 'List the accounts with their roles and state', args: '', options: '', flags: {}, positionals: { min: 0, max: 0 } },
    'set-roles': {
      summary: 'Replace the roles of an account (none clears them); it is signed out everywhere',
      args: '<login> [<role>...]',
      options: '',
      flags: {},
      positionals: { min: 1, max: Number.POSITIVE_INFINITY },
    },
    disable: {
      summary: 'Disable an account: it cannot sign in, and its tokens, sessions and API keys stop working',
      args: '<login>',
      options: '',
      flags: {},
      positionals: { min: 1, max: 1 },
    },
    enable: { summary: 'Enable a disabled account again', args: '<login>', options: '', flags: {}, positionals: { min: 1, max: 1 } },
  },
};

/** Generated passwords: 24 characters of base64url (144 bits), longer when the policy asks for more. */
const GENERATED_LENGTH = 24;

export function runAccounts(argv: readonly string[]): Promise<number> {
  return runGroup(ACCOUNTS, argv, async (name, parsed, model) => {
    const say = (line: string) => console.error(`kiln accounts ${name}: ${line}`);
    switch (name) {
      case 'create':
        return create(parsed, model, say);
      case 'list':
        return withAuthCli(parsed, model, list);
      case 'set-roles': {
        const [login = '', ...given] = parsed.positionals;
        const roles = assignableRoles(given, model);
        return withAuthCli(parsed, model, async (cli) => {
          const account = await cli.account(login);
          await cli.accounts.setRoles(account.id, roles);
          await cli.signOutEverywhere(account.id);
          say(
            `${account.login} now has the roles ${roles.length > 0 ? roles.join(', ') : '(none)'}; it was signed out everywhere and gets them at its next sign-in`,
          );
          return 0;
        });
      }
      case 'disable':
      case 'enable':
        return withAuthCli(parsed, model, async (cli) => {
          const account = await cli.account(parsed.positionals[0] ?? '');
          const disable = name === 'disable';
          await cli.accounts.setDisabled(account.id, disable);
          if (disable) await cli.signOutEverywhere(account.id);
          say(
            disable
              ? `${account.login} is disabled: it cannot sign in, and its refresh tokens, sessions and API keys stopped working`
              : `${account.login} is enabled: it can sign in again`,
          );
          return 0;
        });
    }
  });
}

async function create(parsed: Parsed, model: Model, say: (line: string) => void): Promise<number> {
  const config = model.auth?.accounts;
  const login = config ? loginArgument(parsed, config) : '';
  const roles = assignableRoles((parsed.values.role as string[] | undefined) ?? [], model);
  const fields = otherFields(model, (parsed.values.field as string[] | undefined) ?? []);
  const password = parsed.values['password-stdin'] === true ? await readPassword() : undefined;
  return withAuthCli(parsed, model, async (cli) => {
    const loginValue = cli.accounts.normalizeLogin(login);
    const chosen = password ?? generatedPassword(cli.config.password.minLength);
    const policy = cli.passwords.policyErrors(chosen, loginValue);
    if (policy.length > 0) throw new CommandError(`the password ${policy.map((e) => e.message).join('; ')}`);
    const hash = await cli.passwords.hash(chosen);
    const row = await createRecord(cli, { ...fields, [cli.config.login]: loginValue }, async (id, tx) => {
      await cli.accounts.setPasswordHash(id, hash, tx);
      if (roles.length > 0) await cli.accounts.setRoles(id, roles, tx);
      if (parsed.values.verified === true) await cli.accounts.setVerified(id, true, tx);
    });
    const state = [`roles ${roles.length > 0 ? roles.join(', ') : '(none)'}`, parsed.values.verified === true ? 'verified' : 'not verified'];
    say(`created account ${String(row.id)}, ${cli.config.login} ${loginValue} (${state.join('; ')})`);
    if (!password) {
      say('its password is the line on standard output, shown this once: hand it over safely and have it changed');
      console.log(chosen);
    }
    return 0;
  });
}

/** Creates the record through the operations (validation and hooks), with `manage` writing the managed fields in its transaction. */
async function createRecord(cli: AuthCli, record: Record<string, unknown>, manage: (id: string, tx: Queryable) => Promise<void>): Promise<Row> {
  try {
    return await cli.ops.create(cli.ctx, cli.resource.name, record, {
      around: (write) =>
        cli.ops.transaction(async (tx) => {
          const written = await write(tx);
          await manage(String(written.id), tx);
          return written;
        }),
    });
  } catch (error) {
    if (!(error instanceof KilnError)) throw error;
    if (error.code === 'KILN_UNIQUE_VIOLATION' && error.errors?.some((e) => e.path === `/${cli.config.login}`)) {
      throw new CommandError(`an account with this ${cli.config.login} exists already`);
    }
    const listed = (error.errors ?? []).map((e) => {
      const field = e.path.replace(/^\//, '');
      return `\n  ${field || '(record)'}: ${e.message}${e.code === 'required' ? ` (give it with --field ${field}=VALUE)` : ''}`;
    });
    throw new CommandError(`the account was not created:${listed.length > 0 ? listed.join('') : ` ${error.detail}`}`);
  }
}

/** `--field NAME=VALUE`: text for text fields, JSON for the others (numbers, booleans, lists). */
function otherFields(model: Model, given: readonly string[]): Record<string, unknown> {
  const config = model.auth?.accounts;
  const resource = config && model.resourcesByName.get(config.resource);
  const fields: Record<string, unknown> = {};
  if (!config || !resource) return fields;
  for (const pair of given) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--field takes NAME=VALUE, not "${pair}"`);
    const name = pair.slice(0, at);
    const text = pair.slice(at + 1);
    const field = resource.fieldsByName.get(name);
    if (!field) throw new CommandError(`${resource.name} has no field "${name}"`);
    if (name === config.login) throw new UsageError(`give the login with --${config.login}, not --field`);
    fields[name] = TEXT_TYPES.has(field.type) ? text : parseJson(name, field, text);
  }
  return fields;
}

const TEXT_TYPES = new Set<ColumnField['type']>(['string', 'text', 'enum', 'date', 'datetime', 'uuid', 'decimal', 'bigint']);

function parseJson(name: string, field: ColumnField, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CommandError(`--field ${name}: ${name} is ${fieldKind(field)}; give its value as JSON (e.g. 42, true, ["a"])`);
  }
}

async function list(cli: AuthCli): Promise<number> {
  const accounts = await cli.accounts.list();
  if (accounts.length === 0) {
    console.error('kiln accounts list: no accounts yet; create one with "kiln accounts create"');
    return 0;
  }
  const yes = (value: boolean) => (value ? 'yes' : 'no');
  console.log(
    table(
      ['ID', cli.config.login.toUpperCase(), 'ROLES', 'VERIFIED', 'DISABLED', 'PASSWORD'],
      accounts.map((a) => [a.id, a.login, rolesShown(a.roles), yes(a.verified), yes(a.disabled), a.passwordHash ? 'set' : '-']),
    ),
  );
  return 0;
}

function generatedPassword(minLength: number): string {
  const length = Math.max(GENERATED_LENGTH, minLength);
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64url')
    .slice(0, length);
}

/** The whole of standard input, less one final line break (`echo pw | kiln …` adds one). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY)
    throw new CommandError('--password-stdin reads the password from standard input: pipe it in, e.g. printf %s "$PASSWORD" | kiln accounts create …');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new CommandError('--password-stdin: standard input was empty');
  return text;
}
